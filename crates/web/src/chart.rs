//! Sensor readings (EPCIS `sensorElementList`) as inline SVG line charts,
//! one per measured quantity, with excursions marked — the points a
//! device flagged with an `exception` (`ALARM_CONDITION`,
//! `ERROR_CONDITION`). Each chart has a table of its readings beside it,
//! for screen readers and for reading exact values.

use crate::format::{self, Directory};
use maud::{Markup, html};
use serde_json::Value;

/// One reading of one sensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Reading {
    pub time_ms: i64,
    /// `Temperature`, `RelativeHumidity`, … (the last part of the type URI).
    pub kind: String,
    pub value: f64,
    pub uom: String,
    /// The device's exception (an excursion), if it flagged one.
    pub exception: Option<String>,
    pub device: Option<String>,
    /// Where the reading was taken (bizLocation or readPoint of its event).
    pub place: Option<String>,
}

impl Reading {
    pub fn is_excursion(&self) -> bool {
        self.exception.is_some()
    }
}

/// Every numeric reading in `events` (the API's event JSON, with the
/// captured event under `event`), in time order.
pub fn readings(events: &[&Value]) -> Vec<Reading> {
    let mut out: Vec<Reading> = events.iter().flat_map(|e| event_readings(e)).collect();
    out.sort_by_key(|r| r.time_ms);
    out
}

fn event_readings(event: &Value) -> Vec<Reading> {
    let event_time = event["eventTimeMs"].as_i64().unwrap_or_default();
    let place = event["bizLocation"]
        .as_str()
        .or(event["readPoint"].as_str())
        .map(str::to_string);
    let elements = event["event"]["sensorElementList"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for element in &elements {
        let metadata = &element["sensorMetadata"];
        for report in element["sensorReport"].as_array().into_iter().flatten() {
            let Some(value) = report["value"].as_f64() else {
                continue;
            };
            let time = report["time"]
                .as_str()
                .or(metadata["time"].as_str())
                .and_then(format::parse_time)
                .unwrap_or(event_time);
            out.push(Reading {
                time_ms: time,
                kind: type_name(report["type"].as_str().unwrap_or("Reading")),
                value,
                uom: report["uom"].as_str().unwrap_or_default().to_string(),
                exception: report["exception"].as_str().map(str::to_string),
                device: report["deviceID"]
                    .as_str()
                    .or(metadata["deviceID"].as_str())
                    .map(str::to_string),
                place: place.clone(),
            });
        }
    }
    out
}

/// `gs1:Temperature`, `https://gs1.org/voc/Temperature` → `Temperature`.
fn type_name(raw: &str) -> String {
    raw.rsplit(['/', ':', '#'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(raw)
        .to_string()
}

/// UN/CEFACT unit codes people recognise.
pub fn unit(uom: &str) -> &str {
    match uom {
        "CEL" => "°C",
        "FAH" => "°F",
        "KEL" => "K",
        "P1" => "%",
        "A93" => "g/m³",
        "KGM" => "kg",
        "MTR" => "m",
        "HPA" | "A97" => "hPa",
        other => other,
    }
}

/// Words for a quantity name: `RelativeHumidity` → `Relative humidity`.
fn kind_words(kind: &str) -> String {
    let mut out = String::new();
    for (i, c) in kind.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Charts for every quantity in `readings` (nothing when there are none).
pub fn charts(readings: &[Reading], directory: &Directory, id_prefix: &str) -> Markup {
    let mut kinds: Vec<(&str, &str)> = readings
        .iter()
        .map(|r| (r.kind.as_str(), r.uom.as_str()))
        .collect();
    kinds.dedup();
    kinds.sort();
    kinds.dedup();
    html! {
        @for (n, (kind, uom)) in kinds.iter().enumerate() {
            @let series: Vec<&Reading> = readings.iter().filter(|r| r.kind == *kind && r.uom == *uom).collect();
            (chart(&series, directory, &format!("{id_prefix}-{n}")))
        }
    }
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 40.0;

/// Where readings land on the drawing.
struct Scale {
    t0: i64,
    t1: i64,
    v0: f64,
    v1: f64,
}

impl Scale {
    fn of(series: &[&Reading]) -> Self {
        let t0 = series.iter().map(|r| r.time_ms).min().unwrap_or_default();
        let t1 = series.iter().map(|r| r.time_ms).max().unwrap_or_default();
        let low = series.iter().map(|r| r.value).fold(f64::INFINITY, f64::min);
        let high = series
            .iter()
            .map(|r| r.value)
            .fold(f64::NEG_INFINITY, f64::max);
        // A margin so no point sits on the frame; a flat series still
        // gets a visible band.
        let pad = ((high - low) * 0.1).max(0.5);
        Self {
            t0,
            t1,
            v0: (low - pad).floor(),
            v1: (high + pad).ceil(),
        }
    }

    fn x(&self, t: i64) -> f64 {
        let span = (self.t1 - self.t0).max(1) as f64;
        let inner = WIDTH - LEFT - RIGHT;
        if self.t1 == self.t0 {
            return LEFT + inner / 2.0;
        }
        LEFT + (t - self.t0) as f64 / span * inner
    }

    fn y(&self, v: f64) -> f64 {
        let span = (self.v1 - self.v0).max(f64::EPSILON);
        TOP + (self.v1 - v) / span * (HEIGHT - TOP - BOTTOM)
    }
}

fn number(v: f64) -> String {
    let text = format!("{v:.1}");
    text.strip_suffix(".0").map(str::to_string).unwrap_or(text)
}

/// One quantity's line chart and its table.
fn chart(series: &[&Reading], directory: &Directory, id: &str) -> Markup {
    let Some(first) = series.first() else {
        return html! {};
    };
    let scale = Scale::of(series);
    let unit = unit(&first.uom);
    let name = kind_words(&first.kind);
    let excursions = series.iter().filter(|r| r.is_excursion()).count();
    let points: Vec<String> = series
        .iter()
        .map(|r| format!("{:.1},{:.1}", scale.x(r.time_ms), scale.y(r.value)))
        .collect();
    let summary = format!(
        "{name} in {unit}: {} reading(s) from {} to {}, between {} and {} {unit}; {excursions} excursion(s).",
        series.len(),
        format::utc(scale.t0),
        format::utc(scale.t1),
        number(series.iter().map(|r| r.value).fold(f64::INFINITY, f64::min)),
        number(
            series
                .iter()
                .map(|r| r.value)
                .fold(f64::NEG_INFINITY, f64::max)
        ),
    );
    html! {
        figure.chart data-kind=(first.kind) data-excursions=(excursions) {
            figcaption #{(id) "-title"} {
                strong { (name) " (" (unit) ")" }
                @if excursions > 0 {
                    " · " span.excursion-count { (excursions) " excursion" @if excursions > 1 { "s" } }
                }
            }
            svg viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img"
                aria-labelledby={(id) "-title " (id) "-desc"} xmlns="http://www.w3.org/2000/svg" {
                desc #{(id) "-desc"} { (summary) }
                (axes(&scale, unit))
                polyline.line points=(points.join(" ")) {}
                @for r in series {
                    circle.point.excursion[r.is_excursion()]
                        cx=(format!("{:.1}", scale.x(r.time_ms)))
                        cy=(format!("{:.1}", scale.y(r.value)))
                        r=(if r.is_excursion() { "6" } else { "3.5" }) {
                        title { (number(r.value)) " " (unit) " at " (format::utc(r.time_ms))
                            @if let Some(e) = &r.exception { " — " (e) } }
                    }
                    @if r.is_excursion() {
                        text.excursion-label x=(format!("{:.1}", scale.x(r.time_ms)))
                            y=(format!("{:.1}", (scale.y(r.value) - 10.0).max(12.0)))
                            text-anchor="middle" { "⚠ " (number(r.value)) }
                    }
                }
            }
            (table(series, unit, directory))
        }
    }
}

/// Gridlines and labels: the value range and the first and last time.
fn axes(scale: &Scale, unit: &str) -> Markup {
    let ticks: Vec<f64> = (0..=4)
        .map(|i| scale.v0 + (scale.v1 - scale.v0) * f64::from(i) / 4.0)
        .collect();
    let bottom = HEIGHT - BOTTOM;
    html! {
        g.axes {
            @for v in &ticks {
                line.grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(format!("{:.1}", scale.y(*v))) y2=(format!("{:.1}", scale.y(*v))) {}
                text.tick x=(LEFT - 6.0) y=(format!("{:.1}", scale.y(*v) + 4.0)) text-anchor="end" { (number(*v)) }
            }
            text.tick x="4" y=(TOP + 4.0) { (unit) }
            text.tick x=(LEFT) y=(bottom + 24.0) text-anchor="start" { (format::utc(scale.t0)) }
            @if scale.t1 != scale.t0 {
                text.tick x=(WIDTH - RIGHT) y=(bottom + 24.0) text-anchor="end" { (format::utc(scale.t1)) }
            }
        }
    }
}

fn table(series: &[&Reading], unit: &str, directory: &Directory) -> Markup {
    html! {
        details.readings {
            summary { "Readings as a table" }
            div.scroll {
                table {
                    thead { tr { th scope="col" { "Time" } th scope="col" { "Value" } th scope="col" { "Where" } th scope="col" { "Device" } th scope="col" { "Exception" } } }
                    tbody {
                        @for r in series {
                            tr.excursion[r.is_excursion()] {
                                td { time datetime=(format::iso(r.time_ms)) { (format::utc(r.time_ms)) } }
                                td { (number(r.value)) " " (unit) }
                                td { @if let Some(p) = &r.place { (directory.place(p)) } }
                                td.id { (r.device.as_deref().unwrap_or("")) }
                                td { @if let Some(e) = &r.exception { strong { (e) } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(time: &str, value: f64, exception: Option<&str>) -> Value {
        let mut report = json!({"type": "Temperature", "value": value, "uom": "CEL"});
        if let Some(e) = exception {
            report["exception"] = json!(e);
        }
        json!({
            "eventTimeMs": 0,
            "bizLocation": "urn:epc:id:sgln:4045678.00001.0",
            "event": {"sensorElementList": [{
                "sensorMetadata": {"time": time, "deviceID": "urn:epc:id:giai:4045678.LOGGER"},
                "sensorReport": [report, {"type": "gs1:Humidity", "stringValue": "n/a"}]
            }]}
        })
    }

    #[test]
    fn reads_sensor_reports_in_time_order() {
        let a = event("2026-01-01T10:00:00Z", 4.5, None);
        let b = event("2026-01-01T09:00:00Z", 11.5, Some("ALARM_CONDITION"));
        let none = json!({"eventTimeMs": 5, "event": {"type": "ObjectEvent"}});
        let found = readings(&[&a, &b, &none]);
        assert_eq!(found.len(), 2, "non-numeric reports are skipped");
        assert_eq!(found[0].value, 11.5);
        assert!(found[0].is_excursion());
        assert_eq!(found[1].kind, "Temperature");
        assert_eq!(
            found[1].device.as_deref(),
            Some("urn:epc:id:giai:4045678.LOGGER")
        );
        assert!(found[0].time_ms < found[1].time_ms);
    }

    #[test]
    fn charts_mark_excursions() {
        let a = event("2026-01-01T10:00:00Z", 4.5, None);
        let b = event("2026-01-01T11:00:00Z", 11.5, Some("ALARM_CONDITION"));
        let c = event("2026-01-01T12:00:00Z", 5.0, None);
        let found = readings(&[&a, &b, &c]);
        let html = charts(&found, &Directory::default(), "t").into_string();
        assert_eq!(html.matches("<figure").count(), 1);
        assert!(html.contains(r#"data-excursions="1""#), "{html}");
        assert_eq!(html.matches(r#"class="point excursion""#).count(), 1);
        assert!(html.contains("Temperature (°C)"));
        assert!(html.contains("ALARM_CONDITION"));
        assert!(html.contains("<polyline"));
        assert!(html.contains("role=\"img\""));
    }

    #[test]
    fn no_readings_no_chart() {
        assert_eq!(charts(&[], &Directory::default(), "t").into_string(), "");
    }

    #[test]
    fn one_reading_is_drawn_in_the_middle() {
        let a = event("2026-01-01T10:00:00Z", 4.5, None);
        let found = readings(&[&a]);
        let html = charts(&found, &Directory::default(), "t").into_string();
        assert!(html.contains(r#"cx="340.0""#), "{html}");
    }
}
