//! Small text helpers shared by the pages: times, CBV terms, identifiers in
//! URLs, organisation names. Pure functions over the API's JSON.

use serde_json::Value;

/// Milliseconds since the Unix epoch as `2026-11-21 09:15:02 UTC`
/// (server-rendered pages cannot know the reader's time zone; UTC is
/// unambiguous, and the scripts keep the raw value in `datetime`).
pub fn utc(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The same instant in ISO 8601 (for `<time datetime>`).
pub fn iso(ms: i64) -> String {
    utc(ms).replace(" UTC", "Z").replacen(' ', "T", 1)
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`), so no date crate is needed for one format.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// An EPCIS timestamp (`2026-11-21T09:15:02.5Z`, `…+01:00`) in ms since
/// the epoch; `None` for anything else.
pub fn parse_time(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = text.split_once('T')?;
    let mut parts = date.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    let zone_at = rest.find(['Z', 'z', '+', '-'])?;
    let (clock, zone) = rest.split_at(zone_at);
    let offset_minutes = zone_offset(zone)?;
    let mut clock_parts = clock.splitn(3, ':');
    let hour: i64 = clock_parts.next()?.parse().ok()?;
    let minute: i64 = clock_parts.next()?.parse().ok()?;
    let seconds: f64 = clock_parts.next().unwrap_or("0").parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 24 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let whole = ((days * 24 + hour) * 60 + minute - offset_minutes) * 60;
    Some(whole * 1000 + (seconds * 1000.0).round() as i64)
}

/// Minutes east of UTC of `Z` or `±hh:mm`.
fn zone_offset(zone: &str) -> Option<i64> {
    if zone.eq_ignore_ascii_case("z") {
        return Some(0);
    }
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let (hours, minutes) = zone.get(1..)?.split_once(':')?;
    Some(sign * (hours.parse::<i64>().ok()? * 60 + minutes.parse::<i64>().ok()?))
}

/// Days since 1970-01-01 of a Gregorian date (inverse of `civil_from_days`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The bare term of a CBV URI or term: `https://ref.gs1.org/cbv/BizStep-shipping`
/// and `shipping` are both `shipping`.
pub fn cbv_term(value: &str) -> &str {
    let last = value.rsplit(['/', '#', ':']).next().unwrap_or(value);
    last.split_once('-').map_or(last, |(_, term)| term)
}

/// A business step in plain words, for people who never read the CBV.
pub fn step_words(step: &str) -> String {
    let term = cbv_term(step);
    let words = match term {
        "commissioning" => "Made",
        "creating_class_instance" => "Made (batch)",
        "packing" => "Packed",
        "unpacking" => "Unpacked",
        "shipping" => "Shipped",
        "departing" => "Departed",
        "arriving" => "Arrived",
        "receiving" => "Received",
        "accepting" => "Accepted",
        "storing" => "Stored",
        "loading" => "Loaded",
        "transporting" => "In transport",
        "retail_selling" => "Sold",
        "inspecting" => "Inspected",
        "recalling" => "Recalled",
        "harvesting" => "Harvested",
        "transforming" => "Processed",
        "stocking" => "Stocked",
        "decommissioning" => "Taken out of use",
        "destroying" => "Destroyed",
        "dispensing" => "Dispensed",
        "holding" => "Held",
        "sensor_reporting" => "Sensor report",
        "" => "Recorded",
        other => return capitalise(&other.replace('_', " ")),
    };
    words.to_string()
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `text` percent-encoded for one URL path segment (identifiers may hold
/// `/`, `?`, `#`, `%` or spaces; `:` and `.` stay readable).
pub fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// `text` percent-encoded for a query-string value.
pub fn query_value(text: &str) -> String {
    path_segment(text)
}

/// The first and last characters of a long hex string: enough to tell
/// hashes apart at a glance; the full value is in the link or `title`.
pub fn short_hash(hex: &str) -> String {
    let hex = hex.trim_start_matches("ni:///sha-256;");
    let hex = hex.trim_end_matches("?ver=CBV2.0");
    if hex.len() <= 16 {
        return hex.to_string();
    }
    format!("{}…{}", &hex[..8], &hex[hex.len() - 6..])
}

/// Bare hex of an event hash id (`ni:///sha-256;…?ver=CBV2.0` or hex).
pub fn event_hex(hash: &str) -> &str {
    hash.trim_start_matches("ni:///sha-256;")
        .trim_end_matches("?ver=CBV2.0")
}

/// Organisation names by id, from `GET /v1/organisations`.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    organisations: Vec<Value>,
}

impl Directory {
    /// `listing` is the JSON of `GET /v1/organisations`.
    pub fn new(listing: &Value) -> Self {
        Self {
            organisations: listing["organisations"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// The display name of organisation `id` (the id itself if unknown).
    pub fn name<'a>(&'a self, id: &'a str) -> &'a str {
        self.organisations
            .iter()
            .find(|org| org["id"] == id)
            .and_then(|org| org["name"].as_str())
            .unwrap_or(id)
    }

    /// The organisation owning an identifier (a place, party, item or
    /// unit): by GLN, else by the GS1 company prefix its key starts with.
    pub fn owner_of(&self, id: &str) -> Option<&str> {
        let key = gs1_key(id)?;
        self.organisations
            .iter()
            .find(|org| {
                let listed = |field: &str| {
                    org[field]
                        .as_array()
                        .map(|list| list.iter().filter_map(Value::as_str).collect::<Vec<_>>())
                        .unwrap_or_default()
                };
                listed("glns").contains(&key.value.as_str())
                    || listed("company_prefixes")
                        .iter()
                        .any(|prefix| key.prefix_candidates().any(|c| c.starts_with(prefix)))
            })
            .and_then(|org| org["name"].as_str())
    }

    /// A place in words: `Golden Crust Bakery (GLN 4023456000010)`.
    pub fn place(&self, id: &str) -> String {
        let label = place_label(id);
        match self.owner_of(id) {
            Some(owner) => format!("{owner} ({label})"),
            None => label,
        }
    }
}

/// The primary key of a GS1 identifier, from its canonical Digital Link
/// (`https://id.gs1.org/414/4023456000010/254/1`) or an EPC URN
/// (`urn:epc:id:sgln:4023456.00001.1`).
#[derive(Debug, PartialEq, Eq)]
pub struct Gs1Key {
    /// Application Identifier of the primary key (`01`, `00`, `414`, …);
    /// for URNs, the scheme (`sgtin`, `sscc`, `sgln`, …).
    pub ai: String,
    /// The key's digits (for URNs: the company prefix and the rest, dots
    /// removed).
    pub value: String,
    /// The rest of the path (`/21/1002`) or URN (`.1002`).
    pub rest: String,
}

impl Gs1Key {
    /// Where the company prefix may start: GTIN-14 and SSCC (and GRAI's
    /// padded form) lead with one extra digit.
    fn prefix_candidates(&self) -> impl Iterator<Item = &str> {
        let skip_one = matches!(self.ai.as_str(), "01" | "00" | "8003");
        std::iter::once(self.value.as_str())
            .chain(skip_one.then(|| self.value.get(1..).unwrap_or("")))
    }
}

/// The primary GS1 key of `id`, if it is a GS1 Digital Link or EPC URN.
pub fn gs1_key(id: &str) -> Option<Gs1Key> {
    if let Some(path) = digital_link_path(id) {
        let mut parts = path.trim_start_matches('/').splitn(3, '/');
        let ai = parts.next()?.to_string();
        let value = parts.next()?.to_string();
        let rest = parts.next().map(|r| format!("/{r}")).unwrap_or_default();
        return Some(Gs1Key { ai, value, rest });
    }
    let body = id
        .strip_prefix("urn:epc:id:")
        .or(id.strip_prefix("urn:epc:class:"))?;
    let (scheme, key) = body.split_once(':')?;
    let mut fields = key.splitn(3, '.');
    let prefix = fields.next()?;
    let reference = fields.next().unwrap_or_default();
    let rest = fields.next().map(|r| format!(".{r}")).unwrap_or_default();
    Some(Gs1Key {
        ai: scheme.to_string(),
        value: format!("{prefix}{reference}"),
        rest,
    })
}

/// The canonical Digital Link origin the chain uses for GS1 keys.
pub const DIGITAL_LINK_ORIGIN: &str = "https://id.gs1.org";

/// The path (`/01/…/21/…`) of a canonical Digital Link identifier.
pub fn digital_link_path(id: &str) -> Option<&str> {
    id.strip_prefix(DIGITAL_LINK_ORIGIN)
        .filter(|path| path.starts_with('/') && path.len() > 1)
}

/// Names of GS1 Application Identifiers in a Digital Link path.
pub fn ai_name(ai: &str) -> &str {
    match ai {
        "01" => "GTIN",
        "21" => "serial",
        "10" => "lot",
        "00" => "SSCC",
        "414" => "GLN",
        "417" => "party GLN",
        "254" => "extension",
        "8003" => "GRAI",
        "8004" => "GIAI",
        "253" => "GDTI",
        "255" => "GCN",
        "401" => "GINC",
        "402" => "GSIN",
        other => other,
    }
}

/// `(name, value)` pairs of a Digital Link path (`/01/…/21/…`).
pub fn digital_link_pairs(path: &str) -> Vec<(&str, &str)> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    parts
        .chunks(2)
        .filter_map(|pair| Some((ai_name(pair.first()?), *pair.get(1)?)))
        .collect()
}

/// An identifier for people: `GTIN 04023456000222 serial 1002`,
/// `SSCC 040345670000000018`; anything not a GS1 key as it is.
pub fn id_label(id: &str) -> String {
    match digital_link_path(id) {
        Some(path) => digital_link_pairs(path)
            .iter()
            .map(|(name, value)| format!("{name} {value}"))
            .collect::<Vec<_>>()
            .join(" "),
        None => id.to_string(),
    }
}

/// A place without its owner: `GLN 4023456000017`, `site 4045678.00001.0`.
pub fn place_label(id: &str) -> String {
    match id.strip_prefix("urn:epc:id:sgln:") {
        Some(site) => format!("site {site}"),
        None => id_label(id),
    }
}

/// An identifier as the tail of a URL path: GS1 keys by their Digital
/// Link path (`/01/…/21/…`, which the API parses back), anything else as
/// one percent-encoded segment.
pub fn id_path(id: &str) -> String {
    match digital_link_path(id) {
        Some(path) => path.to_string(),
        None => format!("/{}", path_segment(id)),
    }
}

/// The passport page of an identifier.
pub fn item_href(id: &str) -> String {
    format!("/items{}", id_path(id))
}

/// The tracking page of a parcel (SSCC or any tracking-number URI).
pub fn parcel_href(id: &str) -> String {
    format!("/parcels{}", id_path(id))
}

/// A JSON value as display text: strings bare, null empty, others as JSON.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_utc_times() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_245_415_291), "2026-11-21 07:16:55 UTC");
        assert_eq!(iso(1_795_245_415_291), "2026-11-21T07:16:55Z");
        assert_eq!(utc(-1000), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn parses_epcis_times() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_time("2026-11-21T07:16:55.291Z"),
            Some(1_795_245_415_291)
        );
        assert_eq!(
            parse_time("2026-11-21T08:16:55.291+01:00"),
            Some(1_795_245_415_291)
        );
        assert_eq!(
            parse_time("2026-11-21T06:16:55.291-01:00"),
            Some(1_795_245_415_291)
        );
        assert_eq!(parse_time("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("2026-13-01T00:00:00Z"), None);
        assert_eq!(parse_time("2026-11-21T07:16:55"), None);
    }

    #[test]
    fn reads_cbv_terms() {
        assert_eq!(
            cbv_term("https://ref.gs1.org/cbv/BizStep-shipping"),
            "shipping"
        );
        assert_eq!(cbv_term("urn:epcglobal:cbv:bizstep:receiving"), "receiving");
        assert_eq!(cbv_term("retail_selling"), "retail_selling");
        assert_eq!(
            step_words("https://ref.gs1.org/cbv/BizStep-retail_selling"),
            "Sold"
        );
        assert_eq!(step_words("cycle_counting"), "Cycle counting");
    }

    #[test]
    fn encodes_path_segments() {
        assert_eq!(
            path_segment("urn:epc:id:sgtin:4023456.022222.1002"),
            "urn:epc:id:sgtin:4023456.022222.1002"
        );
        assert_eq!(path_segment("a/b c?#%\"<"), "a%2Fb%20c%3F%23%25%22%3C");
        assert_eq!(path_segment("é"), "%C3%A9");
    }

    #[test]
    fn links_items_and_parcels() {
        assert_eq!(
            item_href("https://id.gs1.org/01/04023456000222/21/1002"),
            "/items/01/04023456000222/21/1002"
        );
        assert_eq!(
            parcel_href("https://id.gs1.org/00/040234560000007770"),
            "/parcels/00/040234560000007770"
        );
        assert_eq!(
            item_href("https://example.com/a?b"),
            "/items/https:%2F%2Fexample.com%2Fa%3Fb"
        );
        assert_eq!(digital_link_path("https://id.gs1.org"), None);
        assert_eq!(
            id_label("https://id.gs1.org/01/04023456000222/21/1002"),
            "GTIN 04023456000222 serial 1002"
        );
        assert_eq!(
            id_label("https://id.gs1.org/00/040345670000000018"),
            "SSCC 040345670000000018"
        );
        assert_eq!(id_label("urn:example:x"), "urn:example:x");
    }

    #[test]
    fn reads_digital_link_paths() {
        assert_eq!(
            digital_link_pairs("/01/04023456000222/10/LOT-1"),
            [("GTIN", "04023456000222"), ("lot", "LOT-1")]
        );
        assert_eq!(digital_link_pairs("/00"), []);
    }

    #[test]
    fn shortens_hashes() {
        let hex = "ab".repeat(32);
        assert_eq!(short_hash(&hex), "abababab…ababab");
        assert_eq!(
            short_hash(&format!("ni:///sha-256;{hex}?ver=CBV2.0")),
            "abababab…ababab"
        );
        assert_eq!(short_hash("12"), "12");
        assert_eq!(event_hex(&format!("ni:///sha-256;{hex}?ver=CBV2.0")), hex);
    }

    #[test]
    fn names_organisations_and_places() {
        let directory = Directory::new(&json!({"organisations": [
            {"id": "bakery", "name": "Golden Crust Bakery", "company_prefixes": ["4023456"], "glns": ["4023456000000"]}
        ]}));
        assert_eq!(directory.name("bakery"), "Golden Crust Bakery");
        assert_eq!(directory.name("nobody"), "nobody");
        assert_eq!(
            directory.place("https://id.gs1.org/414/4023456000010/254/1"),
            "Golden Crust Bakery (GLN 4023456000010 extension 1)"
        );
        assert_eq!(
            directory.place("https://id.gs1.org/414/4023456000000"),
            "Golden Crust Bakery (GLN 4023456000000)"
        );
        assert_eq!(
            directory.owner_of("https://id.gs1.org/01/04023456000222/21/1002"),
            Some("Golden Crust Bakery")
        );
        assert_eq!(
            directory.owner_of("https://id.gs1.org/00/040234560000007770"),
            Some("Golden Crust Bakery")
        );
        assert_eq!(
            directory.place("urn:epc:id:sgln:4023456.00001.0"),
            "Golden Crust Bakery (site 4023456.00001.0)"
        );
        assert_eq!(
            directory.place("https://id.gs1.org/414/9990000000001"),
            "GLN 9990000000001"
        );
        assert_eq!(
            directory.place("https://example.com/dock/7"),
            "https://example.com/dock/7"
        );
        assert_eq!(Directory::new(&json!(null)).name("x"), "x");
    }
}
