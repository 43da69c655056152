//! A snapshot taken while the source list shrinks (what a real chronyd does
//! only by chance): a scripted fake chronyd reports three sources, then has
//! no source at index 2 and counts two. The per-source batch is read again
//! and the snapshot holds the two sources, never a mix of two lists.

use std::time::Duration;

use chronyd_fixture::FakeChronyd;
use chronyd_fixture::wire::{self, Request, SourceData, reply, status};

use chrony_core::{Connection, Options, SourceAddress};

#[test]
fn a_list_that_shrinks_between_the_batches_is_read_again() {
    let mut counts = 0;
    let fake = FakeChronyd::start(move |req| {
        let r = Request(req);
        vec![match r.command() {
            wire::command::N_SOURCES => {
                counts += 1;
                wire::n_sources(req, if counts == 1 { 3 } else { 2 })
            }
            wire::command::TRACKING => wire::Tracking::default().bytes(req),
            wire::command::SOURCE_DATA if wire::request_index(req) < 2 => SourceData {
                addr: [
                    10,
                    0,
                    0,
                    1 + wire::request_index(req) as u8,
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
            .bytes(req),
            wire::command::SOURCE_DATA => reply(req, 0, status::NO_SUCH_SOURCE, 28),
            _ => reply(req, 0, status::UNAUTH, 28),
        }]
    });
    let options = Options::new().with_timeout(Duration::from_secs(30));
    let mut c = Connection::open_with(Some(fake.address()), &options).unwrap();
    let snap = c.snapshot().unwrap();
    drop(c);
    let received = fake.join();
    let addresses: Vec<SourceAddress> = snap
        .sources
        .unwrap()
        .iter()
        .map(|p| p.source.address)
        .collect();
    assert_eq!(
        addresses,
        ["10.0.0.1", "10.0.0.2"]
            .map(|a| SourceAddress::Ip(a.parse().unwrap()))
            .to_vec()
    );
    // The count of the first batch, then one per reading of the second.
    let counts = received
        .iter()
        .filter(|(_, r)| Request(r).command() == wire::command::N_SOURCES)
        .count();
    assert_eq!(counts, 3, "the per-source batch was read twice");
}
