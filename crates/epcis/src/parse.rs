//! From JSON-LD text to validated events, collecting every problem with the
//! JSON pointer of the offending field.

use crate::context::Namespaces;
use crate::error::{EpcisError, EpcisErrors, Pointer};
use crate::identifier::Identifier;
use crate::json::{self, JsonObject, JsonValue};
use crate::model::*;
use crate::time::{TimeZoneOffset, Timestamp};
use crate::vocabulary::{self, VocabularyKind, VocabularyValue};

/// Which kind of document was captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentType {
    EpcisDocument,
    EpcisQueryDocument,
}

/// A validated `EPCISDocument` or `EPCISQueryDocument`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpcisDocument {
    pub document_type: DocumentType,
    pub schema_version: String,
    pub creation_date: Timestamp,
    pub events: Vec<Event>,
}

/// What a capture request contained: a document or one bare event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capture {
    Document(EpcisDocument),
    Event(Box<Event>),
}

impl Capture {
    pub fn into_events(self) -> Vec<Event> {
        match self {
            Capture::Document(d) => d.events,
            Capture::Event(e) => vec![*e],
        }
    }
}

/// Parse and validate an `EPCISDocument` or `EPCISQueryDocument`.
pub fn parse_document(input: &str) -> Result<EpcisDocument, EpcisErrors> {
    let root = read_json(input)?;
    let JsonValue::Object(obj) = root else {
        return Err(EpcisError::new("", "an EPCIS document must be a JSON object").into());
    };
    let mut errors = Vec::new();
    let doc = document(obj, input, &mut errors);
    finish(doc, errors)
}

/// Parse and validate one bare event (with its own `@context`).
pub fn parse_event(input: &str) -> Result<Event, EpcisErrors> {
    let root = read_json(input)?;
    let JsonValue::Object(obj) = root else {
        return Err(EpcisError::new("", "an EPCIS event must be a JSON object").into());
    };
    let mut errors = Vec::new();
    let event = bare_event(obj, input, &mut errors);
    finish(event, errors)
}

/// Parse either a document or a bare event, by its `type`.
pub fn parse_capture(input: &str) -> Result<Capture, EpcisErrors> {
    let root = read_json(input)?;
    let JsonValue::Object(obj) = root else {
        return Err(EpcisError::new("", "a capture must be a JSON object").into());
    };
    let mut errors = Vec::new();
    let is_event = obj
        .get("type")
        .and_then(JsonValue::as_str)
        .and_then(EventType::from_name)
        .is_some();
    let capture = if is_event {
        bare_event(obj, input, &mut errors).map(|e| Capture::Event(Box::new(e)))
    } else {
        document(obj, input, &mut errors).map(Capture::Document)
    };
    finish(capture, errors)
}

fn read_json(input: &str) -> Result<JsonValue, EpcisErrors> {
    json::parse(input).map_err(|e| {
        EpcisError::new(
            e.path,
            format!("invalid JSON at byte {}: {}", e.offset, e.reason),
        )
        .into()
    })
}

fn finish<T>(value: Option<T>, errors: Vec<EpcisError>) -> Result<T, EpcisErrors> {
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ if errors.is_empty() => Err(EpcisError::new("", "invalid input").into()),
        _ => Err(EpcisErrors::new(errors)),
    }
}

fn is_comment(key: &str) -> bool {
    key == "comment" || key == "rdfs:comment"
}

fn document(obj: JsonObject, input: &str, errors: &mut Vec<EpcisError>) -> Option<EpcisDocument> {
    let root = Pointer::root();
    let mut ns = Namespaces::standard();
    let context = obj.get("@context").cloned();
    match &context {
        Some(ctx) => {
            ns.add_context(ctx, &root.key("@context"), errors);
            if !ns.references_epcis_context() {
                errors.push(root.key("@context").error(
                    "@context must reference the EPCIS 2.0 JSON-LD context \
                     (https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld)",
                ));
            }
        }
        None => errors.push(root.key("@context").error("missing @context")),
    }
    let document_type = match obj.get("type") {
        Some(JsonValue::String(t)) if t == "EPCISDocument" => Some(DocumentType::EpcisDocument),
        Some(JsonValue::String(t)) if t == "EPCISQueryDocument" => {
            Some(DocumentType::EpcisQueryDocument)
        }
        Some(_) => {
            errors.push(
                root.key("type")
                    .error("type must be EPCISDocument or EPCISQueryDocument"),
            );
            None
        }
        None => {
            errors.push(root.key("type").error("missing type"));
            None
        }
    };
    let body_path = root.key("epcisBody");
    let query_results_path = body_path.key("queryResults");
    let results_body_path = query_results_path.key("resultsBody");
    let event_list_path = match document_type {
        Some(DocumentType::EpcisQueryDocument) => results_body_path.key("eventList"),
        _ => body_path.key("eventList"),
    };
    let paths = BodyPaths {
        body: &body_path,
        query_results: &query_results_path,
        results_body: &results_body_path,
        event_list: &event_list_path,
    };
    let mut schema_version = None;
    let mut creation_date = None;
    let mut event_list: Option<Vec<JsonValue>> = None;
    let mut body_seen = false;
    for (key, value) in obj.members {
        let p = root.key(&key);
        match key.as_str() {
            "@context" | "type" => {}
            "schemaVersion" => schema_version = string(&value, &p, errors).map(str::to_owned),
            "creationDate" => creation_date = timestamp(&value, &p, errors),
            "id" | "sender" | "receiver" | "instanceIdentifier" => {
                string(&value, &p, errors);
            }
            "epcisHeader" => {
                object(&value, &p, errors);
            }
            "epcisBody" => {
                body_seen = true;
                event_list = body_events(value, document_type, &paths, errors);
            }
            k if is_comment(k) => {}
            k if ns.expand_key(k).is_some() => {}
            _ => errors.push(p.error(unknown_field(&key))),
        }
    }
    if schema_version.is_none() && !errors.iter().any(|e| e.path == "/schemaVersion") {
        errors.push(root.key("schemaVersion").error("missing schemaVersion"));
    }
    if creation_date.is_none() && !errors.iter().any(|e| e.path == "/creationDate") {
        errors.push(root.key("creationDate").error("missing creationDate"));
    }
    if !body_seen {
        errors.push(root.key("epcisBody").error("missing epcisBody"));
    }
    let mut events = Vec::new();
    if let Some(items) = event_list {
        for (i, item) in items.into_iter().enumerate() {
            let p = paths.event_list.index(i);
            match item {
                JsonValue::Object(ev) => {
                    if let Some(e) = event(ev, input, &p, &ns, context.clone(), errors) {
                        events.push(e);
                    }
                }
                other => errors.push(p.error(format!(
                    "an event must be an object, not {}",
                    other.type_name()
                ))),
            }
        }
    }
    Some(EpcisDocument {
        document_type: document_type?,
        schema_version: schema_version?,
        creation_date: creation_date?,
        events,
    })
}

/// The pointers into an `epcisBody`, made once per document: the event
/// list's errors and each event's errors name the same path.
struct BodyPaths<'a> {
    body: &'a Pointer<'a>,
    query_results: &'a Pointer<'a>,
    results_body: &'a Pointer<'a>,
    event_list: &'a Pointer<'a>,
}

/// The event array of an `epcisBody` (under `queryResults.resultsBody` in
/// a query document).
fn body_events(
    body: JsonValue,
    document_type: Option<DocumentType>,
    paths: &BodyPaths,
    errors: &mut Vec<EpcisError>,
) -> Option<Vec<JsonValue>> {
    let JsonValue::Object(body) = body else {
        errors.push(paths.body.error("epcisBody must be an object"));
        return None;
    };
    // Taken, not cloned: a query document's results body holds every event.
    let container = if document_type == Some(DocumentType::EpcisQueryDocument) {
        let Some(JsonValue::Object(results)) = body.take("queryResults") else {
            errors.push(paths.query_results.error("missing queryResults object"));
            return None;
        };
        let Some(JsonValue::Object(rb)) = results.take("resultsBody") else {
            errors.push(paths.results_body.error("missing resultsBody object"));
            return None;
        };
        rb
    } else {
        body
    };
    match container.take("eventList") {
        Some(JsonValue::Array(items)) => Some(items),
        Some(_) => {
            errors.push(paths.event_list.error("eventList must be an array"));
            None
        }
        None => {
            errors.push(paths.event_list.error("missing eventList"));
            None
        }
    }
}

fn bare_event(obj: JsonObject, input: &str, errors: &mut Vec<EpcisError>) -> Option<Event> {
    let root = Pointer::root();
    let ns = Namespaces::standard();
    match obj.get("@context") {
        None => errors.push(root.key("@context").error("missing @context")),
        Some(ctx) => {
            let mut probe = Namespaces::standard();
            probe.add_context(ctx, &root.key("@context"), &mut Vec::new());
            if !probe.references_epcis_context() {
                errors.push(root.key("@context").error(
                    "@context must reference the EPCIS 2.0 JSON-LD context \
                     (https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld)",
                ));
            }
        }
    }
    event(obj, input, &root, &ns, None, errors)
}

fn unknown_field(key: &str) -> String {
    if key.contains(':') {
        format!("field '{key}' uses a namespace prefix that no @context declares")
    } else {
        format!(
            "unknown field '{key}': a non-standard field needs a namespace prefix declared in @context"
        )
    }
}

// ---- value readers -------------------------------------------------------

fn string<'v>(v: &'v JsonValue, p: &Pointer, errors: &mut Vec<EpcisError>) -> Option<&'v str> {
    match v {
        JsonValue::String(s) => Some(s),
        other => {
            errors.push(p.error(format!("must be a string, not {}", other.type_name())));
            None
        }
    }
}

fn object<'v>(
    v: &'v JsonValue,
    p: &Pointer,
    errors: &mut Vec<EpcisError>,
) -> Option<&'v JsonObject> {
    match v {
        JsonValue::Object(o) => Some(o),
        other => {
            errors.push(p.error(format!("must be an object, not {}", other.type_name())));
            None
        }
    }
}

fn array<'v>(
    v: &'v JsonValue,
    p: &Pointer,
    errors: &mut Vec<EpcisError>,
) -> Option<&'v [JsonValue]> {
    match v {
        JsonValue::Array(a) => Some(a),
        other => {
            errors.push(p.error(format!("must be an array, not {}", other.type_name())));
            None
        }
    }
}

fn timestamp(v: &JsonValue, p: &Pointer, errors: &mut Vec<EpcisError>) -> Option<Timestamp> {
    let s = string(v, p, errors)?;
    Timestamp::parse(s)
        .map_err(|e| errors.push(p.error(e.0)))
        .ok()
}

fn number(v: &JsonValue, p: &Pointer, errors: &mut Vec<EpcisError>) -> Option<Number> {
    match v {
        JsonValue::Number(n) => Some(Number(n.clone())),
        other => {
            errors.push(p.error(format!("must be a number, not {}", other.type_name())));
            None
        }
    }
}

/// Reads values of one event, with its namespaces.
struct Reader<'a> {
    ns: &'a Namespaces,
    errors: &'a mut Vec<EpcisError>,
}

impl Reader<'_> {
    fn err(&mut self, p: &Pointer, reason: impl Into<String>) {
        self.errors.push(p.error(reason));
    }

    fn string<'v>(&mut self, v: &'v JsonValue, p: &Pointer) -> Option<&'v str> {
        string(v, p, self.errors)
    }

    fn uri(&mut self, v: &JsonValue, p: &Pointer) -> Option<String> {
        let s = self.string(v, p)?;
        let expanded = self.ns.expand_value(s);
        if crate::uri::is_absolute_uri(&expanded) {
            Some(expanded.into_owned())
        } else {
            self.err(p, format!("'{s}' is not an absolute URI"));
            None
        }
    }

    fn identifier(&mut self, v: &JsonValue, p: &Pointer) -> Option<IdentifierValue> {
        let s = self.string(v, p)?;
        let written = self.ns.expand_value(s).into_owned();
        match Identifier::parse(&written) {
            Ok(id) => Some(IdentifierValue { written, id }),
            Err(e) => {
                self.err(p, e.0);
                None
            }
        }
    }

    fn vocab(
        &mut self,
        kind: VocabularyKind,
        v: &JsonValue,
        p: &Pointer,
    ) -> Option<VocabularyValue> {
        let s = self.string(v, p)?;
        let expanded = self.ns.expand_value(s);
        vocabulary::resolve(kind, &expanded)
            .map_err(|why| self.err(p, why))
            .ok()
    }

    fn timestamp(&mut self, v: &JsonValue, p: &Pointer) -> Option<Timestamp> {
        timestamp(v, p, self.errors)
    }

    fn number(&mut self, v: &JsonValue, p: &Pointer) -> Option<Number> {
        number(v, p, self.errors)
    }

    fn identifier_list(&mut self, v: &JsonValue, p: &Pointer) -> Vec<IdentifierValue> {
        let Some(items) = array(v, p, self.errors) else {
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.identifier(item, &p.index(i)))
            .collect()
    }

    fn quantity_list(&mut self, v: &JsonValue, p: &Pointer) -> Vec<QuantityElement> {
        let Some(items) = array(v, p, self.errors) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ip = p.index(i);
            let Some(obj) = object(item, &ip, self.errors) else {
                continue;
            };
            let mut epc_class = None;
            let mut quantity = None;
            let mut uom = None;
            for (key, value) in obj.iter() {
                let kp = ip.key(key);
                match key {
                    "epcClass" => epc_class = self.identifier(value, &kp),
                    "quantity" => quantity = self.number(value, &kp),
                    "uom" => uom = self.non_empty_string(value, &kp),
                    k if is_comment(k) => {}
                    _ => self.err(&kp, format!("unknown field '{key}' in a quantity element")),
                }
            }
            if obj.get("epcClass").is_none() {
                self.err(&ip.key("epcClass"), "missing epcClass");
            }
            if uom.is_some() && obj.get("quantity").is_none() {
                self.err(
                    &ip.key("quantity"),
                    "a quantity element with uom needs a quantity",
                );
            }
            if let Some(epc_class) = epc_class {
                out.push(QuantityElement {
                    epc_class,
                    quantity,
                    uom,
                });
            }
        }
        out
    }

    fn non_empty_string(&mut self, v: &JsonValue, p: &Pointer) -> Option<String> {
        let s = self.string(v, p)?;
        if s.trim().is_empty() {
            self.err(p, "must not be empty");
            return None;
        }
        Some(s.to_owned())
    }

    /// A user extension member; `None` (with an error) when its name has no
    /// resolvable namespace.
    fn extension(&mut self, key: &str, v: &JsonValue, p: &Pointer) -> Option<Extension> {
        let Some(name) = self.ns.expand_key(key) else {
            self.err(p, unknown_field(key));
            return None;
        };
        let value = self.extension_value(v, p, false)?;
        Some(Extension { name, value })
    }

    fn extension_value(
        &mut self,
        v: &JsonValue,
        p: &Pointer,
        in_array: bool,
    ) -> Option<ExtensionValue> {
        match v {
            JsonValue::String(s) => {
                Some(ExtensionValue::Text(self.ns.expand_value(s).into_owned()))
            }
            JsonValue::Number(n) => Some(ExtensionValue::Number(Number(n.clone()))),
            JsonValue::Bool(b) => Some(ExtensionValue::Bool(*b)),
            JsonValue::Null => {
                self.err(p, "null is not a valid value");
                None
            }
            JsonValue::Object(obj) => Some(ExtensionValue::Object(
                self.nested_extension_members(obj, p),
            )),
            JsonValue::Array(items) => {
                if in_array {
                    self.err(p, "nested arrays are not allowed in extensions");
                    return None;
                }
                let values = items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, item)| self.extension_value(item, &p.index(i), true))
                    .collect();
                Some(ExtensionValue::Array(values))
            }
        }
    }

    /// Members of an `ilmd` object (every name needs a namespace).
    fn extension_members(&mut self, obj: &JsonObject, p: &Pointer) -> Vec<Extension> {
        let mut out = Vec::new();
        for (key, value) in obj.iter() {
            if is_comment(key) {
                continue;
            }
            if let Some(ext) = self.extension(key, value, &p.key(key)) {
                out.push(ext);
            }
        }
        out
    }

    /// Members of an object nested inside an extension: a name without a
    /// prefix belongs to its enclosing element (as in the XML binding) and is
    /// kept as written; a prefixed name must resolve.
    fn nested_extension_members(&mut self, obj: &JsonObject, p: &Pointer) -> Vec<Extension> {
        let mut out = Vec::new();
        for (key, value) in obj.iter() {
            let kp = p.key(key);
            if is_comment(key) {
                continue;
            }
            if key.starts_with('@') {
                self.err(
                    &kp,
                    format!("JSON-LD keyword '{key}' is not supported in an extension"),
                );
                continue;
            }
            let name = if key.contains(':') {
                match self.ns.expand_key(key) {
                    Some(n) => n,
                    None => {
                        self.err(&kp, unknown_field(key));
                        continue;
                    }
                }
            } else {
                key.to_owned()
            };
            if let Some(value) = self.extension_value(value, &kp, false) {
                out.push(Extension { name, value });
            }
        }
        out
    }

    fn location(&mut self, v: &JsonValue, p: &Pointer) -> Option<Location> {
        let obj = object(v, p, self.errors)?;
        let mut id = None;
        let mut extensions = Vec::new();
        for (key, value) in obj.iter() {
            let kp = p.key(key);
            match key {
                "id" => id = self.identifier(value, &kp),
                k if is_comment(k) => {}
                _ => extensions.extend(self.extension(key, value, &kp)),
            }
        }
        if obj.get("id").is_none() {
            self.err(&p.key("id"), "missing id");
        }
        Some(Location {
            id: id?,
            extensions,
        })
    }

    fn biz_transactions(&mut self, v: &JsonValue, p: &Pointer) -> Vec<BizTransaction> {
        let mut out = Vec::new();
        for (i, item) in array(v, p, self.errors)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let ip = p.index(i);
            let Some(obj) = object(item, &ip, self.errors) else {
                continue;
            };
            let mut id = None;
            let mut kind = None;
            for (key, value) in obj.iter() {
                let kp = ip.key(key);
                match key {
                    "bizTransaction" => id = self.identifier(value, &kp),
                    "type" => kind = self.vocab(VocabularyKind::BizTransactionType, value, &kp),
                    k if is_comment(k) => {}
                    _ => self.err(
                        &kp,
                        format!("unknown field '{key}' in a business transaction"),
                    ),
                }
            }
            if obj.get("bizTransaction").is_none() {
                self.err(&ip.key("bizTransaction"), "missing bizTransaction");
            }
            if let Some(id) = id {
                out.push(BizTransaction { id, kind });
            }
        }
        out
    }

    fn sources_or_destinations(
        &mut self,
        v: &JsonValue,
        p: &Pointer,
        field: &str,
    ) -> Vec<SourceDestination> {
        let mut out = Vec::new();
        for (i, item) in array(v, p, self.errors)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let ip = p.index(i);
            let Some(obj) = object(item, &ip, self.errors) else {
                continue;
            };
            let mut id = None;
            let mut kind = None;
            for (key, value) in obj.iter() {
                let kp = ip.key(key);
                match key {
                    k if k == field => id = self.identifier(value, &kp),
                    "type" => kind = self.vocab(VocabularyKind::SourceDestType, value, &kp),
                    k if is_comment(k) => {}
                    _ => self.err(&kp, format!("unknown field '{key}' in a {field}")),
                }
            }
            if obj.get(field).is_none() {
                self.err(&ip.key(field), format!("missing {field}"));
            }
            if obj.get("type").is_none() {
                self.err(&ip.key("type"), "missing type");
            }
            if let (Some(id), Some(kind)) = (id, kind) {
                out.push(SourceDestination { id, kind });
            }
        }
        out
    }

    fn vocab_list(
        &mut self,
        kind: VocabularyKind,
        v: &JsonValue,
        p: &Pointer,
    ) -> Vec<VocabularyValue> {
        array(v, p, self.errors)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.vocab(kind, item, &p.index(i)))
            .collect()
    }

    fn persistent_disposition(
        &mut self,
        v: &JsonValue,
        p: &Pointer,
    ) -> Option<PersistentDisposition> {
        let obj = object(v, p, self.errors)?;
        let mut pd = PersistentDisposition::default();
        for (key, value) in obj.iter() {
            let kp = p.key(key);
            match key {
                "set" => pd.set = self.vocab_list(VocabularyKind::Disposition, value, &kp),
                "unset" => pd.unset = self.vocab_list(VocabularyKind::Disposition, value, &kp),
                k if is_comment(k) => {}
                _ => self.err(
                    &kp,
                    format!("unknown field '{key}' in persistentDisposition"),
                ),
            }
        }
        Some(pd)
    }

    fn error_declaration(&mut self, v: &JsonValue, p: &Pointer) -> Option<ErrorDeclaration> {
        let obj = object(v, p, self.errors)?;
        let mut declaration_time = None;
        let mut reason = None;
        let mut corrective_event_ids = Vec::new();
        let mut extensions = Vec::new();
        for (key, value) in obj.iter() {
            let kp = p.key(key);
            match key {
                "declarationTime" => declaration_time = self.timestamp(value, &kp),
                "reason" => reason = self.vocab(VocabularyKind::ErrorReason, value, &kp),
                "correctiveEventIDs" => {
                    for (i, item) in array(value, &kp, self.errors)
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                    {
                        corrective_event_ids.extend(self.uri(item, &kp.index(i)));
                    }
                }
                k if is_comment(k) => {}
                _ => extensions.extend(self.extension(key, value, &kp)),
            }
        }
        if obj.get("declarationTime").is_none() {
            self.err(&p.key("declarationTime"), "missing declarationTime");
        }
        Some(ErrorDeclaration {
            declaration_time: declaration_time?,
            reason,
            corrective_event_ids,
            extensions,
        })
    }

    fn sensor_elements(&mut self, v: &JsonValue, p: &Pointer) -> Vec<SensorElement> {
        let mut out = Vec::new();
        for (i, item) in array(v, p, self.errors)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let ip = p.index(i);
            let Some(obj) = object(item, &ip, self.errors) else {
                continue;
            };
            let mut element = SensorElement::default();
            for (key, value) in obj.iter() {
                let kp = ip.key(key);
                match key {
                    "sensorMetadata" => element.metadata = self.sensor_metadata(value, &kp),
                    "sensorReport" => {
                        for (j, r) in array(value, &kp, self.errors)
                            .unwrap_or_default()
                            .iter()
                            .enumerate()
                        {
                            element.reports.extend(self.sensor_report(r, &kp.index(j)));
                        }
                    }
                    k if is_comment(k) => {}
                    _ => element.extensions.extend(self.extension(key, value, &kp)),
                }
            }
            if obj.get("sensorReport").is_none() {
                self.err(&ip.key("sensorReport"), "missing sensorReport");
            }
            out.push(element);
        }
        out
    }

    fn sensor_metadata(&mut self, v: &JsonValue, p: &Pointer) -> Option<SensorMetadata> {
        let obj = object(v, p, self.errors)?;
        let mut m = SensorMetadata::default();
        for (key, value) in obj.iter() {
            let kp = p.key(key);
            match key {
                "time" => m.time = self.timestamp(value, &kp),
                "startTime" => m.start_time = self.timestamp(value, &kp),
                "endTime" => m.end_time = self.timestamp(value, &kp),
                "deviceID" => m.device_id = self.uri(value, &kp),
                "deviceMetadata" => m.device_metadata = self.uri(value, &kp),
                "rawData" => m.raw_data = self.uri(value, &kp),
                "dataProcessingMethod" => m.data_processing_method = self.uri(value, &kp),
                "bizRules" => m.biz_rules = self.uri(value, &kp),
                k if is_comment(k) => {}
                _ => m.extensions.extend(self.extension(key, value, &kp)),
            }
        }
        Some(m)
    }

    fn sensor_report(&mut self, v: &JsonValue, p: &Pointer) -> Option<SensorReport> {
        let obj = object(v, p, self.errors)?;
        let mut r = SensorReport::default();
        for (key, value) in obj.iter() {
            let kp = p.key(key);
            match key {
                "type" => {
                    r.measurement_type = self.vocab(VocabularyKind::MeasurementType, value, &kp)
                }
                "exception" => {
                    r.exception = self.vocab(VocabularyKind::SensorAlertType, value, &kp)
                }
                "deviceID" => r.device_id = self.uri(value, &kp),
                "deviceMetadata" => r.device_metadata = self.uri(value, &kp),
                "rawData" => r.raw_data = self.uri(value, &kp),
                "dataProcessingMethod" => r.data_processing_method = self.uri(value, &kp),
                "time" => r.time = self.timestamp(value, &kp),
                "microorganism" => r.microorganism = self.uri(value, &kp),
                "chemicalSubstance" => r.chemical_substance = self.uri(value, &kp),
                "value" => r.value = self.number(value, &kp),
                "component" => r.component = self.vocab(VocabularyKind::Component, value, &kp),
                "stringValue" => {
                    r.string_value = self
                        .string(value, &kp)
                        .map(|s| self.ns.expand_value(s).into_owned())
                }
                "booleanValue" => match value {
                    JsonValue::Bool(b) => r.boolean_value = Some(*b),
                    other => self.err(&kp, format!("must be a boolean, not {}", other.type_name())),
                },
                "hexBinaryValue" => {
                    if let Some(s) = self.string(value, &kp) {
                        if s.len() % 2 == 0 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                            r.hex_binary_value = Some(s.to_owned());
                        } else {
                            self.err(
                                &kp,
                                format!("'{s}' is not hexadecimal binary (pairs of hex digits)"),
                            );
                        }
                    }
                }
                "uriValue" => r.uri_value = self.uri(value, &kp),
                "minValue" => r.min_value = self.number(value, &kp),
                "maxValue" => r.max_value = self.number(value, &kp),
                "meanValue" => r.mean_value = self.number(value, &kp),
                "sDev" => r.s_dev = self.number(value, &kp),
                "percRank" => r.perc_rank = self.number(value, &kp),
                "percValue" => r.perc_value = self.number(value, &kp),
                "uom" => r.uom = self.non_empty_string(value, &kp),
                "coordinateReferenceSystem" => r.coordinate_reference_system = self.uri(value, &kp),
                "bizRules" => r.biz_rules = self.uri(value, &kp),
                k if is_comment(k) => {}
                _ => r.extensions.extend(self.extension(key, value, &kp)),
            }
        }
        Some(r)
    }
}

/// Event fields that only some event types have.
fn field_allowed(field: &str, t: EventType) -> bool {
    use EventType::*;
    match field {
        "epcList" | "quantityList" => matches!(t, ObjectEvent | TransactionEvent),
        "parentID" => matches!(t, AggregationEvent | TransactionEvent | AssociationEvent),
        "childEPCs" | "childQuantityList" => matches!(t, AggregationEvent | AssociationEvent),
        "inputEPCList" | "inputQuantityList" | "outputEPCList" | "outputQuantityList"
        | "transformationID" => t == TransformationEvent,
        "action" => t != TransformationEvent,
        "ilmd" => matches!(t, ObjectEvent | TransformationEvent),
        _ => true,
    }
}

fn event(
    obj: JsonObject,
    input: &str,
    path: &Pointer,
    doc_ns: &Namespaces,
    document_context: Option<JsonValue>,
    errors: &mut Vec<EpcisError>,
) -> Option<Event> {
    let errors_before = errors.len();
    let own_ns;
    let ns = match obj.get("@context") {
        Some(ctx) => {
            let mut n = doc_ns.clone();
            n.add_context(ctx, &path.key("@context"), errors);
            own_ns = n;
            &own_ns
        }
        None => doc_ns,
    };
    let event_type = match obj.get("type") {
        Some(JsonValue::String(t)) => match EventType::from_name(t) {
            Some(et) => Some(et),
            None => {
                errors.push(path.key("type").error(format!(
                    "'{t}' is not an EPCIS event type (ObjectEvent, AggregationEvent, \
                     TransactionEvent, TransformationEvent, AssociationEvent)"
                )));
                None
            }
        },
        Some(other) => {
            errors.push(
                path.key("type")
                    .error(format!("must be a string, not {}", other.type_name())),
            );
            None
        }
        None => {
            errors.push(path.key("type").error("missing type"));
            None
        }
    };
    let mut r = Reader { ns, errors };
    let mut event_time = None;
    let mut offset = None;
    let mut record_time = None;
    let mut event_id = None;
    let mut certification_info = None;
    let mut error_declaration = None;
    let mut parent_id = None;
    let mut epc_list = Vec::new();
    let mut child_epcs = Vec::new();
    let mut input_epc_list = Vec::new();
    let mut output_epc_list = Vec::new();
    let mut quantity_list = Vec::new();
    let mut child_quantity_list = Vec::new();
    let mut input_quantity_list = Vec::new();
    let mut output_quantity_list = Vec::new();
    let mut action = None;
    let mut transformation_id = None;
    let mut biz_step = None;
    let mut disposition = None;
    let mut persistent_disposition = None;
    let mut read_point = None;
    let mut biz_location = None;
    let mut biz_transaction_list = Vec::new();
    let mut source_list = Vec::new();
    let mut destination_list = Vec::new();
    let mut sensor_element_list = Vec::new();
    let mut ilmd = None;
    let mut extensions = Vec::new();

    for (key, value) in obj.iter() {
        let p = path.key(key);
        if let Some(t) = event_type
            && !field_allowed(key, t)
        {
            r.err(&p, format!("field '{key}' is not part of an {t}"));
            continue;
        }
        match key {
            "@context" | "type" => {}
            "eventTime" => event_time = r.timestamp(value, &p),
            "eventTimeZoneOffset" => {
                if let Some(s) = r.string(value, &p) {
                    offset = TimeZoneOffset::parse(s).map_err(|e| r.err(&p, e.0)).ok();
                }
            }
            "recordTime" => record_time = r.timestamp(value, &p),
            "eventID" => event_id = r.uri(value, &p),
            "certificationInfo" => certification_info = r.uri(value, &p),
            "errorDeclaration" => error_declaration = r.error_declaration(value, &p),
            "parentID" => parent_id = r.identifier(value, &p),
            "epcList" => epc_list = r.identifier_list(value, &p),
            "childEPCs" => child_epcs = r.identifier_list(value, &p),
            "inputEPCList" => input_epc_list = r.identifier_list(value, &p),
            "outputEPCList" => output_epc_list = r.identifier_list(value, &p),
            "quantityList" => quantity_list = r.quantity_list(value, &p),
            "childQuantityList" => child_quantity_list = r.quantity_list(value, &p),
            "inputQuantityList" => input_quantity_list = r.quantity_list(value, &p),
            "outputQuantityList" => output_quantity_list = r.quantity_list(value, &p),
            "action" => {
                if let Some(s) = r.string(value, &p) {
                    action = Action::from_name(s);
                    if action.is_none() {
                        r.err(
                            &p,
                            format!("'{s}' is not an action (ADD, OBSERVE or DELETE)"),
                        );
                    }
                }
            }
            "transformationID" => transformation_id = r.uri(value, &p),
            "bizStep" => biz_step = r.vocab(VocabularyKind::BizStep, value, &p),
            "disposition" => disposition = r.vocab(VocabularyKind::Disposition, value, &p),
            "persistentDisposition" => persistent_disposition = r.persistent_disposition(value, &p),
            "readPoint" => read_point = r.location(value, &p),
            "bizLocation" => biz_location = r.location(value, &p),
            "bizTransactionList" => biz_transaction_list = r.biz_transactions(value, &p),
            "sourceList" => source_list = r.sources_or_destinations(value, &p, "source"),
            "destinationList" => {
                destination_list = r.sources_or_destinations(value, &p, "destination")
            }
            "sensorElementList" => sensor_element_list = r.sensor_elements(value, &p),
            "ilmd" => {
                if let Some(o) = object(value, &p, r.errors) {
                    ilmd = Some(r.extension_members(o, &p));
                }
            }
            k if is_comment(k) => {}
            k if k.starts_with('@') => r.err(
                &p,
                format!("JSON-LD keyword '{key}' is not supported in an event"),
            ),
            _ => extensions.extend(r.extension(key, value, &p)),
        }
    }

    let event_type = event_type?;
    let required = |field: &str, present: bool, r: &mut Reader| {
        if !present && obj.get(field).is_none() {
            r.err(&path.key(field), format!("missing {field}"));
        }
    };
    required("eventTime", event_time.is_some(), &mut r);
    required("eventTimeZoneOffset", offset.is_some(), &mut r);
    if event_type != EventType::TransformationEvent {
        required("action", action.is_some(), &mut r);
    }
    match event_type {
        EventType::ObjectEvent => {
            // Published conformance data has ObjectEvents with an empty
            // epcList (sensor-only observations): only a missing list is an error.
            if obj.get("epcList").is_none() && obj.get("quantityList").is_none() {
                r.err(
                    &path.key("epcList"),
                    "an ObjectEvent needs at least one identifier in epcList or quantityList",
                );
            }
        }
        EventType::AssociationEvent => required("parentID", parent_id.is_some(), &mut r),
        EventType::TransactionEvent => {
            if biz_transaction_list.is_empty() && obj.get("bizTransactionList").is_none() {
                r.err(
                    &path.key("bizTransactionList"),
                    "a TransactionEvent needs a bizTransactionList",
                );
            }
        }
        EventType::TransformationEvent => {
            let any = !input_epc_list.is_empty()
                || !input_quantity_list.is_empty()
                || !output_epc_list.is_empty()
                || !output_quantity_list.is_empty();
            if !any && r.errors.len() == errors_before {
                r.err(
                    &path.key("inputEPCList"),
                    "a TransformationEvent needs at least one input or output",
                );
            }
        }
        EventType::AggregationEvent => {}
    }
    if errors.len() != errors_before {
        return None;
    }
    let original_json = input.get(obj.span.clone()).unwrap_or_default().to_owned();
    Some(Event {
        event_type,
        event_time: event_time?,
        event_time_zone_offset: offset?,
        record_time,
        event_id,
        certification_info,
        error_declaration,
        parent_id,
        epc_list,
        child_epcs,
        input_epc_list,
        output_epc_list,
        quantity_list,
        child_quantity_list,
        input_quantity_list,
        output_quantity_list,
        action,
        transformation_id,
        biz_step,
        disposition,
        persistent_disposition,
        read_point,
        biz_location,
        biz_transaction_list,
        source_list,
        destination_list,
        sensor_element_list,
        ilmd,
        extensions,
        original_json,
        document_context,
        hash_memo: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CTX: &str = r#""@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://ns.example.com/ext/"}]"#;

    fn object_event(extra: &str) -> String {
        format!(
            r#"{{{CTX}, "type": "ObjectEvent", "eventTime": "2024-01-01T10:00:00+01:00",
               "eventTimeZoneOffset": "+01:00", "action": "ADD",
               "epcList": ["urn:epc:id:sgtin:0614141.107346.2018"]{extra}}}"#
        )
    }

    #[test]
    fn query_documents_are_read() {
        let doc = format!(
            r#"{{{CTX}, "type": "EPCISQueryDocument", "schemaVersion": "2.0",
               "creationDate": "2024-01-01T00:00:00Z",
               "epcisBody": {{"queryResults": {{"queryName": "SimpleEventQuery",
                 "resultsBody": {{"eventList": [{}]}}}}}}}}"#,
            object_event("")
        );
        let d = parse_document(&doc).unwrap();
        assert_eq!(d.document_type, DocumentType::EpcisQueryDocument);
        assert_eq!(d.events.len(), 1);
        assert_eq!(d.events[0].event_time.utc_millis(), 1_704_099_600_000);
    }

    #[test]
    fn event_errors_point_into_the_event_list() {
        let bad_event = object_event(r#", "undeclared:a": "1""#);
        let query = format!(
            r#"{{{CTX}, "type": "EPCISQueryDocument", "schemaVersion": "2.0",
               "creationDate": "2024-01-01T00:00:00Z",
               "epcisBody": {{"queryResults": {{"queryName": "SimpleEventQuery",
                 "resultsBody": {{"eventList": [{bad_event}]}}}}}}}}"#
        );
        let e = parse_document(&query).unwrap_err();
        assert_eq!(
            e.first().path,
            "/epcisBody/queryResults/resultsBody/eventList/0/undeclared:a"
        );
        let capture = format!(
            r#"{{{CTX}, "type": "EPCISDocument", "schemaVersion": "2.0",
               "creationDate": "2024-01-01T00:00:00Z",
               "epcisBody": {{"eventList": [{}, {bad_event}]}}}}"#,
            object_event("")
        );
        let e = parse_document(&capture).unwrap_err();
        assert_eq!(e.first().path, "/epcisBody/eventList/1/undeclared:a");
    }

    #[test]
    fn body_errors_name_the_missing_or_wrong_part() {
        let doc = |kind: &str, body: &str| {
            format!(
                r#"{{{CTX}, "type": "{kind}", "schemaVersion": "2.0",
                   "creationDate": "2024-01-01T00:00:00Z", "epcisBody": {body}}}"#
            )
        };
        let cases = [
            ("EPCISDocument", "[]", "/epcisBody", "must be an object"),
            (
                "EPCISDocument",
                "{}",
                "/epcisBody/eventList",
                "missing eventList",
            ),
            (
                "EPCISDocument",
                r#"{"eventList": {}}"#,
                "/epcisBody/eventList",
                "must be an array",
            ),
            (
                "EPCISQueryDocument",
                r#"{"eventList": []}"#,
                "/epcisBody/queryResults",
                "missing queryResults",
            ),
            (
                "EPCISQueryDocument",
                r#"{"queryResults": {}}"#,
                "/epcisBody/queryResults/resultsBody",
                "missing resultsBody",
            ),
            (
                "EPCISQueryDocument",
                r#"{"queryResults": {"resultsBody": {"eventList": 1}}}"#,
                "/epcisBody/queryResults/resultsBody/eventList",
                "must be an array",
            ),
        ];
        for (kind, body, path, reason) in cases {
            let e = parse_document(&doc(kind, body)).unwrap_err();
            assert_eq!(e.first().path, path, "{kind} {body}");
            assert!(e.first().reason.contains(reason), "{kind} {body}: {e}");
        }
    }

    #[test]
    fn fields_are_checked_per_event_type() {
        let e = parse_event(&object_event(r#", "childEPCs": []"#)).unwrap_err();
        assert_eq!(e.first().path, "/childEPCs");
        let e = parse_event(&object_event(r#", "inputEPCList": []"#)).unwrap_err();
        assert_eq!(e.first().path, "/inputEPCList");
    }

    #[test]
    fn extensions_need_a_namespace_except_inside_an_extension() {
        let ok = parse_event(&object_event(
            r#", "ex:a": {"plain": "1", "ex:b": [1, {"c": "d"}]}"#,
        ))
        .unwrap();
        assert_eq!(ok.extensions.len(), 1);
        assert_eq!(ok.extensions[0].name, "{https://ns.example.com/ext/}a");
        let e = parse_event(&object_event(r#", "undeclared:a": "1""#)).unwrap_err();
        assert_eq!(e.first().path, "/undeclared:a");
        let e = parse_event(&object_event(r#", "ex:a": {"un:b": "1"}"#)).unwrap_err();
        assert_eq!(e.first().path, "/ex:a/un:b");
        let e = parse_event(&object_event(r#", "ex:a": null"#)).unwrap_err();
        assert_eq!(e.first().path, "/ex:a");
    }

    #[test]
    fn event_level_context_declares_prefixes() {
        let doc = format!(
            r#"{{{CTX}, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-01-01T00:00:00Z",
               "epcisBody": {{"eventList": [{{"@context": {{"own": "urn:own:"}},
                 "type": "ObjectEvent", "eventTime": "2024-01-01T10:00:00Z", "eventTimeZoneOffset": "+00:00",
                 "action": "OBSERVE", "epcList": [], "own:x": "y"}}]}}}}"#
        );
        let d = parse_document(&doc).unwrap();
        assert_eq!(d.events[0].extensions[0].name, "{urn:own:}x");
        assert!(!d.events[0].pre_hash_string().contains("@context"));
    }

    #[test]
    fn json_errors_carry_a_path() {
        let e = parse_event(&object_event(r#", "action": "ADD""#)).unwrap_err();
        assert_eq!(e.first().path, "/action");
        assert!(e.first().reason.contains("duplicate"));
        let e = parse_document("[1]").unwrap_err();
        assert_eq!(e.first().path, "");
    }

    #[test]
    fn identifiers_are_listed_with_their_roles() {
        let ev = parse_event(&object_event(
            r#", "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
               "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 2}]"#,
        ))
        .unwrap();
        let roles: Vec<_> = ev
            .identifiers()
            .into_iter()
            .map(|(r, id)| (r, id.canonical().to_owned()))
            .collect();
        assert_eq!(
            roles,
            vec![
                (
                    IdentifierRole::Epc,
                    "https://id.gs1.org/01/10614141073464/21/2018".to_owned()
                ),
                (
                    IdentifierRole::Quantity,
                    "https://id.gs1.org/01/04012345123456/10/998877".to_owned()
                ),
                (
                    IdentifierRole::ReadPoint,
                    "https://id.gs1.org/414/0614141073467/254/1234".to_owned()
                ),
            ]
        );
    }
}
