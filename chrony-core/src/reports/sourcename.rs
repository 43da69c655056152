//! The sourcename report (`chronyc -N`): the name each NTP source was
//! configured with (`pool.ntp.org`, or an address as written in chrony.conf),
//! read by index like the other per-source reports. It is an extension of
//! this crate's C library: a system libchrony 0.2 lacks it.

use std::ffi::CStr;

use libchrony_sys as ffi;

use super::Report;
use super::decode::{Fields, invalid};
use super::refid::ReferenceAddress;
use crate::session::CSession;
use crate::{Result, SourceAddress};

/// The name an NTP source was configured with (`server`, `pool` or `peer`
/// in chrony.conf, or `chronyc add`), as `chronyc -N sources` shows it.
/// Reference clocks have none (chronyc shows their reference ID).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SourceName {
    /// The source: an IP address, or [`SourceAddress::Unresolved`] for a
    /// name chronyd has not resolved yet (the report does not carry it:
    /// it is the address chronyd was asked about).
    pub address: SourceAddress,
    /// The name as configured, e.g. `pool.ntp.org` (for a pool, every
    /// source from it has the pool's name), or `192.0.2.1`.
    pub name: String,
}

/// A reference clock's record has no fields: there is no address to ask
/// chronyd with, and so no name (`None`).
impl Report for Option<SourceName> {
    const NAME: &'static CStr = ffi::SOURCENAME;

    fn read(s: &CSession) -> Result<Option<SourceName>> {
        if s.number_of_fields() == 0 {
            return Ok(None);
        }
        let f = Fields::new(s);
        let address = match f.address(1, c"address")? {
            ReferenceAddress::Ip(ip) => SourceAddress::Ip(ip),
            ReferenceAddress::Id(id) => SourceAddress::Unresolved(id),
            // The library fills it in from the address it asked with.
            ReferenceAddress::Unspecified => {
                return Err(invalid("address", "an unspecified address"));
            }
        };
        Ok(Some(SourceName {
            address,
            name: f.text(0, c"name")?,
        }))
    }
}

super::query!(Vec<SourceName>, source_name_records);
