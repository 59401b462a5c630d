"""Run the published reference implementation (PyPI: epcis-event-hash-generator)
on EPCIS JSON-LD files and print one JSON line per file:
{"file": ..., "prehashes": [...], "hashes": [...]} or {"file": ..., "error": ...}.

Before handing a document to the reference, the harness rewrites it in ways
that do not change its meaning but avoid reference defects that
tracechain deliberately does not reproduce (see crates/epcis/README.md,
"Differences from the reference implementation"):

1. a bare event is wrapped in an EPCISDocument;
2. event-level @context entries are moved to the document's @context (the
   reference would hash them as user extensions and not resolve them);
3. the prefixes the EPCIS context defines (gs1, cbv, ...) are declared
   inline, so the reference expands CURIEs that use them, as the spec says;
   a document that redefines one of them gets it renamed consistently (the
   JSON-LD processor refuses to redefine a protected term);
4. JSON booleans become the strings "true"/"false" (xsd:boolean's canonical
   form; the reference would write Python's "True");
5. "type" is put first in bizTransaction/source/destination objects (the
   reference's output depends on JSON key order there; the vectors fix
   type-first).

No network: every JSON-LD context URL naming the EPCIS context is served
from the copy inside the reference package; any other URL fails.
"""

import copy
import importlib.resources
import json
import logging
import sys

from pyld import jsonld

import epcis_event_hash_generator  # noqa: F401  (sets its own loader first)
from epcis_event_hash_generator import hash_generator, json_to_py

CONTEXT_FILE = "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"

STANDARD_PREFIXES = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

EVENT_TYPES = {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}


def loader(url, options=None):
    if "epcis-context" in url:
        ref = importlib.resources.files("epcis_event_hash_generator").joinpath(CONTEXT_FILE)
        with ref.open("r", encoding="utf-8") as f:
            data = json.load(f)
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": data}
    raise RuntimeError("no network access for context " + url)


def as_list(ctx):
    if ctx is None:
        return []
    return ctx if isinstance(ctx, list) else [ctx]


def rename_prefix(obj, old, new):
    """Rename CURIE prefix old -> new in every key and string value."""
    def fix(s):
        return new + s[len(old):] if isinstance(s, str) and s.startswith(old + ":") else s
    if isinstance(obj, dict):
        return {fix(k): rename_prefix(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list):
        return [rename_prefix(v, old, new) for v in obj]
    return fix(obj)


def normalise(doc):
    doc = copy.deepcopy(doc)
    if doc.get("type") in EVENT_TYPES:
        ctx = doc.pop("@context", None)
        doc = {"@context": ctx, "type": "EPCISDocument", "schemaVersion": "2.0",
               "creationDate": "2000-01-01T00:00:00Z", "epcisBody": {"eventList": [doc]}}
    body = doc.get("epcisBody", {})
    if "queryResults" in body:
        events = body["queryResults"]["resultsBody"]["eventList"]
        doc["epcisBody"] = {"eventList": events}
    events = doc["epcisBody"]["eventList"]
    context = as_list(doc.get("@context"))
    for ev in events:
        context.extend(as_list(ev.pop("@context", None)))
    declared = {}
    urls = []
    for c in context:
        if isinstance(c, str):
            urls.append(c)
        else:
            for k, v in c.items():
                if k in declared and declared[k] != v:
                    raise ValueError("conflicting prefix " + k)
                declared[k] = v
    for prefix, iri in list(declared.items()):
        if prefix in STANDARD_PREFIXES and iri != STANDARD_PREFIXES[prefix]:
            new = prefix + "userdefined"
            doc["epcisBody"]["eventList"] = events = rename_prefix(events, prefix, new)
            declared[new] = declared.pop(prefix)
    for prefix, iri in STANDARD_PREFIXES.items():
        declared.setdefault(prefix, iri)
    doc["@context"] = urls + [{k: v} for k, v in declared.items()]

    def fix(o):
        if isinstance(o, bool):
            return "true" if o else "false"
        if isinstance(o, list):
            return [fix(v) for v in o]
        if isinstance(o, dict):
            o = {k: fix(v) for k, v in o.items()}
            if any(k in o for k in ("bizTransaction", "source", "destination")) and "type" in o:
                o = dict([("type", o["type"])] + [(k, v) for k, v in o.items() if k != "type"])
            return o
        return o
    doc["epcisBody"]["eventList"] = fix(doc["epcisBody"]["eventList"])
    return doc


def main():
    logging.disable(logging.CRITICAL)
    jsonld.set_document_loader(loader)
    for path in sys.argv[1:]:
        json_to_py._namespaces.clear()
        try:
            with open(path, encoding="utf-8") as f:
                doc = normalise(json.load(f))
            events = json_to_py.event_list_from_epcis_document_json(doc)
            pre = hash_generator.derive_prehashes_from_events(events)
            if len(pre) != len(events[2]):
                raise RuntimeError("the reference dropped %d event(s)" % (len(events[2]) - len(pre)))
            hashes = hash_generator.calculate_hashes_from_pre_hashes(pre)
            print(json.dumps({"file": path, "prehashes": pre, "hashes": hashes}))
        except Exception as e:  # report and go on with the next file
            print(json.dumps({"file": path, "error": "%s: %s" % (type(e).__name__, e)}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
