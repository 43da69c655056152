//! The authdata report (`chronyc authdata`): how each NTP source is
//! authenticated (symmetric key or NTS), asked for by the source's address.

use std::ffi::CStr;
use std::fmt;

use super::Keyed;
use super::decode::Fields;
use crate::session::CSession;
use crate::{Result, SourceAddress};

/// How a source is authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthMode {
    /// Not authenticated (chronyc: `-`).
    None,
    /// A symmetric key from the key file (`key N`; chronyc: `SK`).
    SymmetricKey,
    /// Network Time Security (`nts`; chronyc: `NTS`).
    Nts,
    /// A value this library does not know (chronyc: `?`).
    Unknown(u16),
}

impl From<u16> for AuthMode {
    fn from(v: u16) -> AuthMode {
        match v {
            0 => AuthMode::None,
            1 => AuthMode::SymmetricKey,
            2 => AuthMode::Nts,
            v => AuthMode::Unknown(v),
        }
    }
}

impl fmt::Display for AuthMode {
    /// chronyc's column: `-`, `SK`, `NTS`, `?`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthMode::None => "-",
            AuthMode::SymmetricKey => "SK",
            AuthMode::Nts => "NTS",
            AuthMode::Unknown(_) => "?",
        })
    }
}

/// One NTP source's authentication (a line of `chronyc authdata`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AuthData {
    /// The source's address (the report itself does not carry it: it is
    /// the address chronyd was asked about): an IP address, or
    /// [`SourceAddress::Unresolved`] for a source whose name is not resolved
    /// yet, which chronyd reports too (as `chronyc -a authdata` shows it).
    pub address: SourceAddress,
    /// How it is authenticated.
    pub mode: AuthMode,
    /// The key's algorithm, by chrony's number (chronyc's `Type`: e.g. 15
    /// AEAD-AES-SIV-CMAC-256 for NTS, 2 SHA1), 0 for none.
    pub key_type: u16,
    /// The key's ID in the key file; for NTS the number of successful key
    /// establishments (chronyc's `KeyID`).
    pub key_id: u32,
    /// The key's length in bits (`KLen`).
    pub key_length: u16,
    /// NTS-KE attempts since the last success (`Atmp`).
    pub ke_attempts: u16,
    /// Seconds since the last NTS key establishment (`Last`), `None` if never.
    pub last_ke_ago: Option<u32>,
    /// NTS cookies held (`Cook`; 0 means a new key establishment is due).
    pub cookies: u16,
    /// The length of the cookies in bytes (`CLen`).
    pub cookie_length: u16,
    /// The server answered with an NTS NAK (`NAK`).
    pub nak: bool,
}

impl Keyed for AuthData {
    const NAME: &'static CStr = c"authdata";
    const UNRESOLVED_TOO: bool = true;

    fn read_for(s: &CSession, address: SourceAddress) -> Result<Option<AuthData>> {
        let f = Fields::new(s);
        Ok(Some(AuthData {
            address,
            mode: AuthMode::from(f.uint::<u16>(0, c"mode")?),
            key_type: f.uint(1, c"key type")?,
            key_id: f.uint(2, c"key ID")?,
            key_length: f.uint(3, c"key length")?,
            ke_attempts: f.uint(4, c"key establishment attempts")?,
            last_ke_ago: f.seconds_ago(5, c"last key establishment ago")?,
            cookies: f.uint(6, c"cookies")?,
            cookie_length: f.uint(7, c"cookie length")?,
            nak: f.uint::<u16>(8, c"NAK")? != 0,
        }))
    }
}

super::query!(Vec<AuthData>, keyed_records);
