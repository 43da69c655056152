//! The bench's tokio cases (the example built with `--features tokio`, as `cargo xtask bench`
//! builds it): a reused `AsyncConnection` beside the blocking one, and many daemons polled one
//! after another (blocking) or all at once (tokio). One current-thread runtime drives every
//! async case: the client stays one thread, as the blocking cases are.

use chrony_core::{AsyncConnection, Connection};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;

use super::{Case, Result, case};

/// The runtime and the connections the cases borrow (they outlive the cases).
pub struct State {
    rt: Runtime,
    unix: AsyncConnection,
    udp: AsyncConnection,
    many_blocking: Vec<Connection>,
    many_async: Vec<AsyncConnection>,
}

impl State {
    /// Connections to the bench's daemon (`socket`, `udp`) and to each of `many` (UDP addresses).
    pub fn open(socket: &str, udp: &str, many: &[String]) -> Result<State> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let unix = rt.block_on(AsyncConnection::open(socket))?;
        let udp = rt.block_on(AsyncConnection::open(udp))?;
        let many_blocking = many
            .iter()
            .map(|a| Connection::open(a))
            .collect::<std::result::Result<_, _>>()?;
        let many_async = many
            .iter()
            .map(|a| rt.block_on(AsyncConnection::open(a)))
            .collect::<std::result::Result<_, _>>()?;
        Ok(State {
            rt,
            unix,
            udp,
            many_blocking,
            many_async,
        })
    }

    pub fn cases(&mut self) -> Vec<Case<'_>> {
        let State {
            rt,
            unix,
            udp,
            many_blocking,
            many_async,
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
        if many_blocking.is_empty() {
            return cases;
        }
        cases.push(case(
            "many.sequential.udp",
            "tracking() of every daemon, one after another (Connection)",
            false,
            move || {
                for c in many_blocking.iter_mut() {
                    c.tracking().expect("many sequential");
                }
            },
        ));
        cases.push(case(
            "many.concurrent.udp",
            "tracking() of every daemon at once (AsyncConnection, JoinSet)",
            false,
            move || {
                // The connections go into the tasks and come back with their answers.
                let connections = std::mem::take(many_async);
                *many_async = rt.block_on(concurrently(connections));
            },
        ));
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
