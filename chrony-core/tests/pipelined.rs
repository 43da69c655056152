//! That `Connection::snapshot` pipelines (only with the bundled C library's
//! shared-fd extension): a scripted fake chronyd holds back every answer of
//! the second batch until all of its requests have arrived, then answers
//! them in reverse order, after a stale reply from an earlier sequence that
//! would change a source's address if it were taken. A sequential reader
//! would wait for its first answer, resend it, and never get one.
#![cfg(libchrony_shared_fd)]

use std::time::Duration;

use chronyd_fixture::FakeChronyd;
use chronyd_fixture::wire::{self, Request, SourceData, reply, status};

use chrony_core::{Connection, Error, Options, SourceAddress};

/// Sources in the fake; the second batch has six requests each, and a count.
const N: u32 = 2;
const SECOND_BATCH: usize = N as usize * 6 + 1;

fn source(index: u32) -> SourceData {
    SourceData {
        addr: [
            10,
            0,
            0,
            1 + index as u8,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ],
        ..SourceData::default()
    }
}

#[test]
fn the_second_batch_is_sent_before_any_answer_and_answered_in_reverse() {
    let mut counts = 0;
    let mut first_count: Vec<u8> = Vec::new();
    let mut held: Vec<Vec<u8>> = Vec::new();
    let fake = FakeChronyd::start(move |req| {
        let r = Request(req);
        match r.command() {
            wire::command::N_SOURCES if counts == 0 => {
                counts += 1;
                first_count = req.to_vec();
                vec![wire::n_sources(req, N)]
            }
            wire::command::TRACKING => vec![wire::Tracking::default().bytes(req)],
            // The rest of the first batch: refused, as over UDP.
            wire::command::ACTIVITY
            | wire::command::SERVER_STATS
            | wire::command::SMOOTHING
            | wire::command::RTCREPORT => vec![reply(req, 0, status::UNAUTH, 28)],
            _ => {
                held.push(req.to_vec());
                if held.len() < SECOND_BATCH {
                    return vec![];
                }
                // A reply to source 0's request, but with the first batch's
                // (earlier) sequence and another address: to be ignored.
                let mut stale_req = held
                    .iter()
                    .find(|h| {
                        Request(h).command() == wire::command::SOURCE_DATA
                            && wire::request_index(h) == 0
                    })
                    .expect("source 0 asked for")
                    .clone();
                stale_req[8..12].copy_from_slice(&first_count[8..12]);
                let mut out = vec![source(7).bytes(&stale_req)];
                for h in held.iter().rev() {
                    out.push(match Request(h).command() {
                        wire::command::SOURCE_DATA => source(wire::request_index(h)).bytes(h),
                        wire::command::N_SOURCES => wire::n_sources(h, N),
                        // sourcestats, selectdata and the chained lookups: refused.
                        _ => reply(h, 0, status::UNAUTH, 28),
                    });
                }
                out
            }
        }
    });
    let options = Options::new().with_timeout(Duration::from_secs(30));
    let mut c = Connection::open_with(Some(fake.address()), &options).unwrap();
    let snap = c.snapshot().unwrap();
    drop(c);
    let received = fake.join();

    assert!(snap.tracking.is_ok(), "{:?}", snap.tracking);
    assert!(matches!(snap.activity, Err(Error::NotAuthorised { .. })));
    let sources = snap.sources.unwrap();
    let addresses: Vec<SourceAddress> = sources.iter().map(|p| p.source.address).collect();
    assert_eq!(
        addresses,
        (0..N)
            .map(|i| SourceAddress::Ip(format!("10.0.0.{}", i + 1).parse().unwrap()))
            .collect::<Vec<_>>(),
        "the stale reply (10.0.0.8) was not taken"
    );
    for p in &sources {
        assert!(
            matches!(p.stats, Err(Error::NotAuthorised { .. })),
            "{:?}",
            p.stats
        );
        assert!(matches!(p.ntp_data, Err(Error::NotAuthorised { .. })));
    }
    // Every request was sent once: nothing waited for an answer to resend.
    assert_eq!(received.len(), 6 + SECOND_BATCH, "{received:?}");
    assert!(received.iter().all(|(_, r)| Request(r).attempt() == 0));
}
