//! Reading the fields of a received record by name, with the checks every
//! report shares: the field exists with the expected type, floats are finite,
//! times are read as chronyc reads them.

use std::ffi::{CStr, c_int};
use std::fmt;
use std::time::{Duration, SystemTime};

use libchrony_sys as ffi;

use super::refid::ReferenceAddress;
use crate::session::CSession;
use crate::{Error, Result};

/// The fields of the record a session received last. Each getter takes the
/// field's usual index as a hint (one comparison in the usual case) and its
/// libchrony name (which decides).
pub(crate) struct Fields<'a> {
    session: &'a CSession,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(session: &'a CSession) -> Fields<'a> {
        Fields { session }
    }

    /// An unsigned integer field.
    pub(crate) fn uinteger(&self, hint: c_int, name: &'static CStr) -> Result<u64> {
        let i = self.index(hint, name, ffi::CHRONY_TYPE_UINTEGER)?;
        Ok(self.session.uinteger(i))
    }

    /// An unsigned integer field that must fit in `T` (the width on the wire).
    pub(crate) fn uint<T: TryFrom<u64>>(&self, hint: c_int, name: &'static CStr) -> Result<T> {
        let v = self.uinteger(hint, name)?;
        T::try_from(v).map_err(|_| invalid(field_name(name), v))
    }

    /// An unsigned integer field that older chronyd versions do not send:
    /// `None` when the record has no such field.
    pub(crate) fn newer_uinteger(&self, hint: c_int, name: &'static CStr) -> Result<Option<u64>> {
        if !self.has(hint, name) {
            return Ok(None);
        }
        self.uinteger(hint, name).map(Some)
    }

    /// A u32 count of seconds ago, where chronyd's 0xFFFFFFFF means never.
    pub(crate) fn seconds_ago(&self, hint: c_int, name: &'static CStr) -> Result<Option<u32>> {
        match self.uint::<u32>(hint, name)? {
            u32::MAX => Ok(None),
            v => Ok(Some(v)),
        }
    }

    /// A signed integer field. libchrony 0.2 does not sign-extend 16-bit
    /// fields (a poll of -4 reads 65532): such a value is read back as the
    /// `i16` it was on the wire.
    pub(crate) fn integer16(&self, hint: c_int, name: &'static CStr) -> Result<i16> {
        let i = self.index(hint, name, ffi::CHRONY_TYPE_INTEGER)?;
        let v = self.session.integer(i);
        i16::try_from(v)
            .or_else(|_| u16::try_from(v).map(|u| u as i16))
            .map_err(|_| invalid(field_name(name), v))
    }

    /// A signed 8-bit field, read back as the `i8` it was on the wire (see
    /// [`Fields::integer16`]).
    pub(crate) fn integer8(&self, hint: c_int, name: &'static CStr) -> Result<i8> {
        let i = self.index(hint, name, ffi::CHRONY_TYPE_INTEGER)?;
        let v = self.session.integer(i);
        i8::try_from(v)
            .or_else(|_| u8::try_from(v).map(|u| u as i8))
            .map_err(|_| invalid(field_name(name), v))
    }

    /// An IP address field: `None` for an unspecified address.
    pub(crate) fn ip(&self, hint: c_int, name: &'static CStr) -> Result<Option<std::net::IpAddr>> {
        match self.address(hint, name)? {
            ReferenceAddress::Ip(ip) => Ok(Some(ip)),
            ReferenceAddress::Unspecified => Ok(None),
            other => Err(invalid(field_name(name), other)),
        }
    }

    /// True when the record has a field `name` (of any type).
    pub(crate) fn has(&self, hint: c_int, name: &'static CStr) -> bool {
        self.session.field_index(hint, name).is_some()
    }

    /// A float field; NaN and infinities are corrupt data.
    pub(crate) fn float(&self, hint: c_int, name: &'static CStr) -> Result<f64> {
        let i = self.index(hint, name, ffi::CHRONY_TYPE_FLOAT)?;
        let v = self.session.float(i);
        if !v.is_finite() {
            return Err(invalid(field_name(name), v));
        }
        Ok(v)
    }

    /// A timespec field (see [`system_time`]).
    pub(crate) fn time(&self, hint: c_int, name: &'static CStr) -> Result<SystemTime> {
        let i = self.index(hint, name, ffi::CHRONY_TYPE_TIMESPEC)?;
        system_time(name, self.session.timespec(i))
    }

    /// An address field.
    pub(crate) fn address(&self, hint: c_int, name: &'static CStr) -> Result<ReferenceAddress> {
        let i = self.index(hint, name, ffi::CHRONY_TYPE_STRING)?;
        self.session.with_string(i, |text| {
            ReferenceAddress::from_c_text(text).ok_or_else(|| {
                invalid(
                    field_name(name),
                    String::from_utf8_lossy(text.unwrap_or_default()),
                )
            })
        })
    }

    /// A text field (not an address) as UTF-8; other bytes are corrupt data.
    pub(crate) fn text(&self, hint: c_int, name: &'static CStr) -> Result<String> {
        let i = self.index(hint, name, ffi::CHRONY_TYPE_STRING)?;
        self.session.with_string(i, |text| {
            let bytes = text.ok_or_else(|| invalid(field_name(name), "no text"))?;
            String::from_utf8(bytes.to_vec()).map_err(|e| {
                invalid(
                    field_name(name),
                    format_args!("{:?} (not UTF-8)", String::from_utf8_lossy(e.as_bytes())),
                )
            })
        })
    }

    /// The index of a field that must exist with the given type.
    fn index(&self, hint: c_int, name: &'static CStr, ty: ffi::chrony_field_type) -> Result<c_int> {
        let s = self.session;
        let Some(i) = s.field_index(hint, name) else {
            return Err(Error::IncompleteData {
                detail: format!(
                    "the field {:?} is missing ({} fields received)",
                    name,
                    s.number_of_fields()
                ),
                chrony_err: None,
            });
        };
        let actual = s.field_type(i);
        if actual != ty {
            return Err(invalid(
                field_name(name),
                format_args!("a value of chrony_field_type {actual} instead of {ty}"),
            ));
        }
        Ok(i)
    }
}

fn field_name(name: &'static CStr) -> &'static str {
    name.to_str().unwrap_or("field")
}

/// [`Error::InvalidValue`] for `field`.
pub(crate) fn invalid(field: &'static str, value: impl fmt::Display) -> Error {
    Error::InvalidValue {
        field,
        value: value.to_string(),
    }
}

/// A timespec as chronyc reads it: a high word of 0x7fffffff means "no high
/// seconds" (a 32-bit server) and nanoseconds are clamped to 999999999.
///
/// `field` is named in an error only (as text it would cost a UTF-8 check per read).
fn system_time(field: &'static CStr, (mut sec, nsec): (i64, i64)) -> Result<SystemTime> {
    const NO_HIGH_SEC: i64 = 0x7fff_ffff;
    if sec >> 32 == NO_HIGH_SEC {
        sec &= 0xffff_ffff;
    }
    let (Ok(sec), Ok(nsec)) = (u64::try_from(sec), u32::try_from(nsec)) else {
        return Err(invalid(field_name(field), format_args!("{sec}.{nsec:09}")));
    };
    SystemTime::UNIX_EPOCH
        .checked_add(Duration::new(sec, nsec.min(999_999_999)))
        .ok_or_else(|| invalid(field_name(field), sec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = |s, n| system_time(c"t", (s, n)).unwrap();
        assert_eq!(t(0, 0), SystemTime::UNIX_EPOCH);
        assert_eq!(
            t(1_795_959_909, 214_976_262),
            SystemTime::UNIX_EPOCH + Duration::new(1_795_959_909, 214_976_262)
        );
        assert_eq!(
            t((0x7fff_ffff << 32) | 5, 1_500_000_000),
            SystemTime::UNIX_EPOCH + Duration::new(5, 999_999_999)
        );
        assert_eq!(system_time(c"t", (-1, 0)).unwrap_err().code(), -4);
        assert_eq!(system_time(c"t", (1, -1)).unwrap_err().code(), -4);
    }
}
