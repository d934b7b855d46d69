//! Stored times on their way out. Times are stored as rusqlite writes a `DateTime<Utc>`
//! (`2026-11-22 15:33:09.123456789+00:00`) and the API writes them as chrono does
//! (`2026-11-22T15:33:09.123456789Z`). A list of conversations or a page of messages carries
//! dozens of them, and parsing each into a `DateTime` only to format it again took about a tenth
//! of an inbox request's CPU: [`Timestamp`] rewrites the stored text into the API's instead.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Row;
use rusqlite::types::{Type, ValueRef};
use serde::{Serialize, Serializer};

/// A time as the API writes it: RFC 3339 in UTC with `Z`, fractional seconds in groups of three
/// digits as needed (what chrono's `Serialize` writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Timestamp(String);

impl From<DateTime<Utc>> for Timestamp {
    fn from(time: DateTime<Utc>) -> Self {
        Timestamp(time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// In the OpenAPI document: an RFC 3339 date-time string.
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Stored time `i` of a row.
pub(crate) fn timestamp(r: &Row<'_>, i: usize) -> rusqlite::Result<Timestamp> {
    timestamp_opt(r, i)?.ok_or(rusqlite::Error::InvalidColumnType(
        i,
        "time".into(),
        Type::Null,
    ))
}

/// [`timestamp`] for a column that may be NULL.
pub(crate) fn timestamp_opt(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<Timestamp>> {
    if let ValueRef::Text(text) = r.get_ref(i)? {
        if let Some(rewritten) = rewrite(text) {
            return Ok(Some(Timestamp(rewritten)));
        }
        // Written some other way (SQL's own `datetime()`, an offset, a `T`): the long way round.
        let parsed = std::str::from_utf8(text)
            .ok()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
        if let Some(time) = parsed {
            return Ok(Some(time.with_timezone(&Utc).into()));
        }
    }
    Ok(r.get::<_, Option<DateTime<Utc>>>(i)?.map(Timestamp::from))
}

/// The API's form of a time stored exactly as rusqlite writes one, or None for anything else,
/// including fractions chrono would shorten (`.120000` is written `.120`).
fn rewrite(stored: &[u8]) -> Option<String> {
    const DATE_TIME: &[u8] = b"dddd-dd-dd dd:dd:dd";
    const UTC: &[u8] = b"+00:00";
    let (date_time, rest) = stored.split_at_checked(DATE_TIME.len())?;
    let fraction = rest.strip_suffix(UTC)?;
    let shaped = date_time.iter().zip(DATE_TIME).all(|(&b, &want)| {
        if want == b'd' {
            b.is_ascii_digit()
        } else {
            b == want
        }
    });
    let digits = match fraction {
        [] => &[][..],
        [b'.', digits @ ..] => digits,
        _ => return None,
    };
    let fraction_ok = match digits.len() {
        0 => true,
        3 | 6 | 9 => digits.iter().all(u8::is_ascii_digit) && !digits.ends_with(b"000"),
        _ => false,
    };
    if !(shaped && fraction_ok) {
        return None;
    }
    let mut out = String::with_capacity(stored.len() - UTC.len() + 1);
    // Every byte checked above is ASCII.
    out.push_str(std::str::from_utf8(&date_time[..10]).ok()?);
    out.push('T');
    out.push_str(std::str::from_utf8(&date_time[11..]).ok()?);
    out.push_str(std::str::from_utf8(fraction).ok()?);
    out.push('Z');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rusqlite::Connection;

    /// What the API wrote before: chrono's own serialization of the parsed time.
    fn chrono_json(time: DateTime<Utc>) -> String {
        serde_json::to_string(&time).unwrap()
    }

    fn read(conn: &Connection, sql: &str) -> Option<Timestamp> {
        conn.query_row(sql, [], |r| timestamp_opt(r, 0)).unwrap()
    }

    #[test]
    fn a_stored_time_comes_out_as_chrono_would_write_it() {
        let conn = Connection::open_in_memory().unwrap();
        let second = Utc.with_ymd_and_hms(2026, 11, 22, 15, 33, 9).unwrap();
        for nanos in [
            0,
            5,
            100,
            1_000,
            120_000,
            1_000_000,
            120_000_000,
            123_000_000,
            123_456_000,
            123_456_789,
            999_999_999,
        ] {
            let time = second + chrono::Duration::nanoseconds(nanos);
            // Stored the way every write stores a time: rusqlite's conversion.
            let stored: String = conn.query_row("SELECT ?1", [time], |r| r.get(0)).unwrap();
            assert!(
                rewrite(stored.as_bytes()).is_some(),
                "{stored} is rewritten"
            );
            let read = conn
                .query_row("SELECT ?1", [&stored], |r| timestamp(r, 0))
                .unwrap();
            assert_eq!(
                serde_json::to_string(&read).unwrap(),
                chrono_json(time),
                "stored as {stored}"
            );
            assert_eq!(read, Timestamp::from(time));
        }
    }

    #[test]
    fn times_stored_otherwise_are_read_the_long_way_and_nulls_stay_none() {
        let conn = Connection::open_in_memory().unwrap();
        let at = |h, m, s, ms| {
            Utc.with_ymd_and_hms(2026, 11, 22, h, m, s).unwrap()
                + chrono::Duration::milliseconds(ms)
        };
        for (sql, time) in [
            ("SELECT '2026-11-22 15:33:09'", at(15, 33, 9, 0)),
            ("SELECT '2026-11-22T15:33:09.120Z'", at(15, 33, 9, 120)),
            (
                "SELECT '2026-11-22 15:33:09.120000+00:00'",
                at(15, 33, 9, 120),
            ),
            ("SELECT '2026-11-22 16:33:09+01:00'", at(15, 33, 9, 0)),
        ] {
            assert_eq!(read(&conn, sql), Some(time.into()), "{sql}");
        }
        assert_eq!(read(&conn, "SELECT NULL"), None);
        let garbage = conn.query_row("SELECT 'not a time'", [], |r| timestamp(r, 0));
        assert!(garbage.is_err());
    }
}
