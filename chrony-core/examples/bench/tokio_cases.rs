//! The bench's tokio cases (the example built with `--features tokio`, as `cargo xtask bench`
//! builds it): a reused `AsyncConnection` beside the blocking one, and many daemons polled one
//! after another (blocking) or all at once (tokio). One current-thread runtime drives every
//! async case: the client stays one thread, as the blocking cases are.

use chrony_core::{AsyncConnection, Connection};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

use super::{Case, Result, case};

/// The two fleets of the many-daemon cases, by their case ids (sequential, concurrent).
/// `udp`: the daemons' loopback UDP ports; `lan`: the same daemons behind relays that hold each
/// datagram for a while each way (`cargo xtask bench`: a LAN's round trip), where waiting, not
/// the CPU, is what concurrency saves.
const FLEETS: [(&str, &str); 2] = [
    ("many.sequential.udp", "many.concurrent.udp"),
    ("many.sequential.lan", "many.concurrent.lan"),
];

/// One fleet's connections: blocking ones for the sequential case, async ones for the other.
struct Fleet {
    ids: (&'static str, &'static str),
    blocking: Vec<Connection>,
    concurrent: Vec<AsyncConnection>,
}

/// The runtime and the connections the cases borrow (they outlive the cases).
pub struct State {
    rt: Runtime,
    unix: AsyncConnection,
    udp: AsyncConnection,
    fleets: Vec<Fleet>,
}

impl State {
    /// Connections to the bench's daemon (`socket`, `udp`) and to each daemon of `many` (UDP
    /// addresses on loopback) and `many_lan` (the same behind latency relays); an empty list
    /// has no cases.
    pub fn open(socket: &str, udp: &str, many: &[String], many_lan: &[String]) -> Result<State> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let unix = rt.block_on(AsyncConnection::open(socket))?;
        let udp = rt.block_on(AsyncConnection::open(udp))?;
        let mut fleets = Vec::new();
        for (ids, addresses) in FLEETS.into_iter().zip([many, many_lan]) {
            if addresses.is_empty() {
                continue;
            }
            let blocking = addresses
                .iter()
                .map(|a| Connection::open(a))
                .collect::<std::result::Result<_, _>>()?;
            let concurrent = addresses
                .iter()
                .map(|a| rt.block_on(AsyncConnection::open(a)))
                .collect::<std::result::Result<_, _>>()?;
            fleets.push(Fleet {
                ids,
                blocking,
                concurrent,
            });
        }
        Ok(State {
            rt,
            unix,
            udp,
            fleets,
        })
    }

    pub fn cases(&mut self) -> Vec<Case<'_>> {
        let State {
            rt,
            unix,
            udp,
            fleets,
        } = self;
        let rt: &Runtime = rt;
        let mut cases = vec![
            case(
                "async.reused.unix",
                "AsyncConnection reused: tracking()",
                false,
                move || {
                    rt.block_on(unix.tracking()).expect("async unix");
                },
            ),
            case(
                "async.reused.udp",
                "AsyncConnection reused: tracking()",
                false,
                move || {
                    rt.block_on(udp.tracking()).expect("async udp");
                },
            ),
        ];
        for fleet in fleets.iter_mut() {
            let Fleet {
                ids: (sequential, concurrent),
                blocking,
                concurrent: connections,
            } = fleet;
            cases.push(case(
                sequential,
                "tracking() of every daemon, one after another (Connection)",
                false,
                move || {
                    for c in blocking.iter_mut() {
                        c.tracking().expect("many sequential");
                    }
                },
            ));
            cases.push(case(
                concurrent,
                "tracking() of every daemon at once (AsyncConnection, JoinSet)",
                false,
                move || {
                    // The connections go into the tasks and come back with their answers.
                    let taken = std::mem::take(connections);
                    *connections = rt.block_on(concurrently(taken));
                },
            ));
        }
        cases
    }
}

/// Every connection's tracking() at once; the connections, for the next sample.
async fn concurrently(connections: Vec<AsyncConnection>) -> Vec<AsyncConnection> {
    let mut tasks = JoinSet::new();
    for mut c in connections {
        tasks.spawn(async move {
            c.tracking().await.expect("many concurrent");
            c
        });
    }
    let mut back = Vec::with_capacity(tasks.len());
    while let Some(c) = tasks.join_next().await {
        back.push(c.expect("a tracking task panicked"));
    }
    back
}
