//! A consistent read view of the index (one redb read transaction) with the
//! lookups queries and traces are built from.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use redb::{ReadOnlyTable, ReadTransaction, ReadableDatabase};
use tracechain_epcis::hash_id_from_digest;

use crate::codec::{
    EventRecord, Posting, RecallRecord, decode_name, encode_name, hash_key, name_key,
};
use crate::error::{IndexError, corrupt};
use crate::model::{IndexedEvent, StoredEvent};
use crate::pages;
use crate::schema::*;

pub(crate) type SeqTable = ReadOnlyTable<(u64, u64), &'static [u8]>;

pub(crate) struct Snapshot {
    strings: ReadOnlyTable<(u64, u64), ()>,
    string_by_id: ReadOnlyTable<u64, &'static [u8]>,
    events: ReadOnlyTable<u64, &'static [u8]>,
    event_json: ReadOnlyTable<u64, &'static [u8]>,
    event_by_hash: ReadOnlyTable<(u64, u64), ()>,
    pub(crate) by_ident: ReadOnlyTable<(u64, u64), [u8; crate::codec::POSTING_LEN]>,
    first_postings: ReadOnlyTable<u64, &'static [u8]>,
    by_transformation: SeqTable,
    errors: ReadOnlyTable<&'static [u8; 32], &'static [u8; 32]>,
    recalls: ReadOnlyTable<(u64, u64), &'static [u8]>,
    /// Events have seqs `0..next_seq`, every one of them.
    pub(crate) next_seq: u64,
    txn: ReadTransaction,
    /// Interned strings already read in this view.
    names: RefCell<HashMap<u64, Rc<str>>>,
    /// The record, event-JSON and name pages read last, decoded.
    record_page: pages::PageCache,
    json_page: pages::PageCache,
    name_page: pages::PageCache,
}

impl Snapshot {
    pub(crate) fn new(db: &redb::Database) -> Result<Snapshot, IndexError> {
        let txn = db.begin_read()?;
        let next_seq = txn
            .open_table(META)?
            .get(META_NEXT_SEQ)?
            .map_or(0, |v| v.value());
        Ok(Snapshot {
            next_seq,
            strings: txn.open_table(STRINGS)?,
            string_by_id: txn.open_table(STRING_BY_ID)?,
            events: txn.open_table(EVENTS)?,
            event_json: txn.open_table(EVENT_JSON)?,
            event_by_hash: txn.open_table(EVENT_BY_HASH)?,
            by_ident: txn.open_table(BY_IDENT)?,
            first_postings: txn.open_table(FIRST_POSTINGS)?,
            by_transformation: txn.open_table(BY_TRANSFORMATION)?,
            errors: txn.open_table(ERRORS)?,
            recalls: txn.open_table(RECALLS)?,
            txn,
            names: RefCell::new(HashMap::new()),
            record_page: pages::PageCache::default(),
            json_page: pages::PageCache::default(),
            name_page: pages::PageCache::default(),
        })
    }

    /// A filter table (runs of seqs by term), opened on demand (queries
    /// only).
    pub(crate) fn seq_table(&self, def: RunTable) -> Result<SeqTable, IndexError> {
        Ok(self.txn.open_table(def)?)
    }

    pub(crate) fn time_table(
        &self,
    ) -> Result<ReadOnlyTable<(i64, u64), &'static [u8]>, IndexError> {
        Ok(self.txn.open_table(BY_TIME)?)
    }

    /// The id of an interned string, if the index has ever seen it.
    pub(crate) fn id_of(&self, s: &str) -> Result<Option<u64>, IndexError> {
        let stored = encode_name(s);
        let key = name_key(&stored);
        for id in candidates(&self.strings, key)? {
            if self.name_page.read(&self.string_by_id, id)?.as_deref() == Some(stored.as_bytes()) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    pub(crate) fn name(&self, id: u64) -> Result<Rc<str>, IndexError> {
        if let Some(n) = self.names.borrow().get(&id) {
            return Ok(n.clone());
        }
        let stored = self
            .name_page
            .read(&self.string_by_id, id)?
            .ok_or_else(|| corrupt(format!("string {id} missing")))?;
        let stored =
            std::str::from_utf8(&stored).map_err(|_| corrupt(format!("string {id} not UTF-8")))?;
        let name: Rc<str> = decode_name(stored).into();
        self.names.borrow_mut().insert(id, name.clone());
        Ok(name)
    }

    fn name_opt(&self, id: u64) -> Result<Option<String>, IndexError> {
        if id == 0 {
            Ok(None)
        } else {
            Ok(Some(self.name(id)?.to_string()))
        }
    }

    pub(crate) fn seq_of(&self, hash: &[u8; 32]) -> Result<Option<u64>, IndexError> {
        let key = hash_key(hash);
        for seq in candidates(&self.event_by_hash, key)? {
            if self.record(seq)?.hash == *hash {
                return Ok(Some(seq));
            }
        }
        Ok(None)
    }

    pub(crate) fn record(&self, seq: u64) -> Result<EventRecord, IndexError> {
        let bytes = self
            .record_page
            .read(&self.events, seq)?
            .ok_or_else(|| corrupt(format!("event {seq} missing")))?;
        EventRecord::decode(&bytes)
    }

    /// The full event as the API returns it.
    pub(crate) fn stored_event(&self, seq: u64) -> Result<StoredEvent, IndexError> {
        let r = self.record(seq)?;
        self.stored_from_record(seq, r)
    }

    pub(crate) fn stored_from_record(
        &self,
        seq: u64,
        r: EventRecord,
    ) -> Result<StoredEvent, IndexError> {
        let json = self
            .json_page
            .read(&self.event_json, seq)?
            .ok_or_else(|| corrupt(format!("event {seq} JSON missing")))?;
        let declared_in_error = if r.in_error {
            self.errors.get(&r.hash)?.map(|v| *v.value())
        } else {
            None
        };
        let mut identifiers = Vec::with_capacity(r.identifiers.len());
        for (role, id) in &r.identifiers {
            identifiers.push((*role, self.name(*id)?.to_string()));
        }
        let event = IndexedEvent {
            hash: r.hash,
            event_id: r.event_id.unwrap_or_else(|| hash_id_from_digest(&r.hash)),
            event_type: r.kind.name().to_owned(),
            event_time_ms: r.event_time_ms,
            action: r.action.map(|a| a.name().to_owned()),
            biz_step: self.name_opt(r.biz_step)?,
            disposition: self.name_opt(r.disposition)?,
            read_point: self.name_opt(r.read_point)?,
            biz_location: self.name_opt(r.biz_location)?,
            transformation_id: self.name_opt(r.transformation_id)?,
            identifiers,
            organisation: self.name(r.organisation)?.to_string(),
            height: r.height,
            block_time_ms: r.block_time_ms,
            tx: r.tx,
            json,
        };
        Ok(StoredEvent {
            event,
            declared_in_error,
        })
    }

    /// Every event of an identifier, in chain order.
    pub(crate) fn postings(&self, ident: u64) -> Result<Vec<Posting>, IndexError> {
        let mut out = self.first_postings(ident)?;
        for entry in self.by_ident.range((ident, 0)..=(ident, u64::MAX))? {
            let (key, value) = entry?;
            out.push(Posting::decode(key.value().1, &value.value())?);
        }
        Ok(out)
    }

    /// An identifier's postings from the transaction that interned it
    /// (all earlier than its `by_ident` ones).
    pub(crate) fn first_postings(&self, ident: u64) -> Result<Vec<Posting>, IndexError> {
        let item = pages::read(&self.first_postings, ident)?
            .ok_or_else(|| corrupt(format!("first postings of {ident} missing")))?;
        crate::codec::first_postings(&item)
    }

    /// The events that share a transformationID.
    pub(crate) fn transformation_group(&self, tid: u64) -> Result<Vec<u64>, IndexError> {
        crate::runs::all(&self.by_transformation, tid)
    }

    /// Recalls naming an identifier, in the order they were recorded.
    pub(crate) fn recalls(&self, ident: u64) -> Result<Vec<(u64, RecallRecord)>, IndexError> {
        let mut out = Vec::new();
        for entry in self.recalls.range((ident, 0)..=(ident, u64::MAX))? {
            let (key, value) = entry?;
            out.push((key.value().1, RecallRecord::decode(value.value())?));
        }
        Ok(out)
    }
}
