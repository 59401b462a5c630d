//! Organisations, agents, roles and membership governance.
//!
//! Founding members come from genesis and are applied at height 1. Later
//! members join (or leave) by a proposal from a member admin that applies
//! once more than two thirds of the active members' admins approved it.

use crate::{BlockEnv, payload::Failure};
use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex, MutexGuard},
};
use tracechain_state::{
    StateRead, Store,
    domain::{
        self, AgentRecord, OrganisationRecord, ProposalRecord, ProposalStatus, ProposedChange,
    },
    records::RecordError,
};
use tracechain_types::{
    Digest, LogRecord, MembershipChange, OrganisationSpec, PublicKey, RecordKind, Transaction,
    domain::{check_organisation, roles},
    genesis::FoundingOrganisation,
    hash,
};

type Checked<T> = Result<Result<T, Failure>, RecordError>;

/// The signer as an agent of an active organisation.
pub(crate) async fn acting_agent(
    store: &impl StateRead,
    key: &PublicKey,
) -> Checked<(AgentRecord, OrganisationRecord)> {
    let Some(agent) = domain::agent(store, key).await? else {
        return Ok(Err(Failure::new(
            "not_an_agent",
            "the signing key is not a registered agent of any organisation",
        )));
    };
    match domain::organisation(store, &agent.organisation).await? {
        Some(org) if org.active => Ok(Ok((agent, org))),
        _ => Ok(Err(Failure::new(
            "organisation_inactive",
            format!(
                "organisation '{}' is not an active member",
                agent.organisation
            ),
        ))),
    }
}

/// The agents (with their organisations) captures of one block acted as.
///
/// A loaded block holds thousands of captures from a few hundred agents;
/// reading each one's agent and organisation records from the state
/// database was ~6 % of a block's processing (perf, a catching-up node). Only transactions other than
/// captures change those records, so the block forgets what it learned
/// whenever one executes, and when a block starts; a clone starts empty.
#[derive(Default)]
pub struct ActingAgents(Mutex<HashMap<PublicKey, Arc<(AgentRecord, OrganisationRecord)>>>);

impl ActingAgents {
    pub(crate) fn forget(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PublicKey, Arc<(AgentRecord, OrganisationRecord)>>> {
        // Plain values: a panic elsewhere leaves them usable.
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }
}

impl Clone for ActingAgents {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl std::fmt::Debug for ActingAgents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ActingAgents({} known)", self.lock().len())
    }
}

/// [`acting_agent`], remembered for the rest of the block while only
/// captures execute.
pub(crate) async fn acting_agent_in_block(
    store: &impl StateRead,
    env: &BlockEnv,
    key: &PublicKey,
) -> Checked<Arc<(AgentRecord, OrganisationRecord)>> {
    if let Some(known) = env.acting.lock().get(key) {
        return Ok(Ok(known.clone()));
    }
    let found = match acting_agent(store, key).await? {
        Ok(found) => Arc::new(found),
        Err(failure) => return Ok(Err(failure)),
    };
    env.acting.lock().insert(key.clone(), found.clone());
    Ok(Ok(found))
}

/// The signer as the admin of an active member organisation.
async fn acting_admin(store: &impl StateRead, key: &PublicKey) -> Checked<OrganisationRecord> {
    let (agent, org) = match acting_agent(store, key).await? {
        Ok(found) => found,
        Err(failure) => return Ok(Err(failure)),
    };
    if !agent.roles.contains(roles::ORG_ADMIN) {
        return Ok(Err(Failure::new(
            "not_admin",
            format!(
                "the signer lacks role '{}' in '{}'",
                roles::ORG_ADMIN,
                org.id
            ),
        )));
    }
    Ok(Ok(org))
}

fn log(kind: RecordKind, tx: Digest, subject: Digest) -> LogRecord {
    LogRecord { kind, tx, subject }
}

/// Writes a new member: its record, admin agent, prefix and GLN owners.
async fn join(
    store: &mut impl Store,
    spec: &OrganisationSpec,
    height: u64,
) -> Result<(), RecordError> {
    domain::put_organisation(store, &OrganisationRecord::new(spec, height));
    let mut admin_roles = BTreeSet::new();
    admin_roles.insert(roles::ORG_ADMIN.to_string());
    domain::put_agent(
        store,
        &spec.admin,
        &AgentRecord {
            organisation: spec.id.clone(),
            display_name: format!("{} admin", spec.name),
            roles: admin_roles,
            registered_height: height,
        },
    );
    for prefix in &spec.company_prefixes {
        domain::put_prefix_owner(store, prefix, &spec.id);
    }
    for gln in &spec.glns {
        domain::put_gln_owner(store, gln, &spec.id);
    }
    let mut members = domain::members(store).await?;
    members.insert(spec.id.clone());
    domain::put_members(store, &members);
    Ok(())
}

/// Applies the founding organisations (height 1, before its transactions).
pub(crate) async fn apply_genesis(
    store: &mut impl Store,
    env: &BlockEnv,
    founding: &[FoundingOrganisation],
) -> Result<(), RecordError> {
    let genesis_tx = hash(b"tracechain/genesis");
    for org in founding {
        join(store, &org.spec, env.height).await?;
        for (key, display_name, granted) in &org.agents {
            // The admin key may also be listed as an agent: merge its roles.
            let mut record = domain::agent(store, key).await?.unwrap_or(AgentRecord {
                organisation: org.spec.id.clone(),
                display_name: display_name.clone(),
                roles: BTreeSet::new(),
                registered_height: env.height,
            });
            record.roles.extend(granted.iter().cloned());
            domain::put_agent(store, key, &record);
        }
        store.append(log(
            RecordKind::OrganisationJoined,
            genesis_tx,
            hash(org.spec.id.as_bytes()),
        ));
    }
    Ok(())
}

pub(crate) async fn register_agent(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    agent: &PublicKey,
    display_name: &str,
) -> Checked<Vec<LogRecord>> {
    let org = match acting_admin(store, tx.sender()).await? {
        Ok(org) => org,
        Err(failure) => return Ok(Err(failure)),
    };
    if display_name.trim().is_empty() || display_name.chars().any(char::is_control) {
        return Ok(Err(Failure::new(
            "invalid_name",
            "display name must be non-empty text without control characters",
        )));
    }
    if domain::agent(store, agent).await?.is_some() {
        return Ok(Err(Failure::new(
            "agent_exists",
            "this key is already an agent (of this or another organisation)",
        )));
    }
    domain::put_agent(
        store,
        agent,
        &AgentRecord {
            organisation: org.id.clone(),
            display_name: display_name.to_string(),
            roles: BTreeSet::new(),
            registered_height: env.height,
        },
    );
    Ok(Ok(vec![log(
        RecordKind::AgentRegistered,
        tx.id(),
        hash(agent.as_ref()),
    )]))
}

/// Grants (`grant = true`) or revokes a role of one of the admin's agents.
pub(crate) async fn change_role(
    store: &mut impl Store,
    tx: &Transaction,
    agent_key: &PublicKey,
    role: &str,
    grant: bool,
) -> Checked<Vec<LogRecord>> {
    let org = match acting_admin(store, tx.sender()).await? {
        Ok(org) => org,
        Err(failure) => return Ok(Err(failure)),
    };
    if !roles::is_known(role) {
        return Ok(Err(Failure::new(
            "unknown_role",
            format!("'{role}' is not a tracechain role"),
        )));
    }
    let Some(mut agent) = domain::agent(store, agent_key).await? else {
        return Ok(Err(Failure::new("unknown_agent", "no agent has this key")));
    };
    if agent.organisation != org.id {
        return Ok(Err(Failure::new(
            "other_organisation",
            format!(
                "the agent belongs to '{}', not '{}'",
                agent.organisation, org.id
            ),
        )));
    }
    let changed = if grant {
        agent.roles.insert(role.to_string())
    } else {
        if role == roles::ORG_ADMIN && org.admin == tracechain_types::to_hex(agent_key) {
            return Ok(Err(Failure::new(
                "admin_role_fixed",
                "the organisation's admin key always keeps org:admin",
            )));
        }
        agent.roles.remove(role)
    };
    if !changed {
        let state = if grant {
            "already holds"
        } else {
            "does not hold"
        };
        return Ok(Err(Failure::new(
            "no_change",
            format!("the agent {state} '{role}'"),
        )));
    }
    domain::put_agent(store, agent_key, &agent);
    let subject = tracechain_types::hash_parts(&[agent_key.as_ref(), role.as_bytes()]);
    Ok(Ok(vec![log(RecordKind::RoleChanged, tx.id(), subject)]))
}

/// Why a membership change cannot apply to the current state.
async fn check_change(store: &impl StateRead, change: &MembershipChange) -> Checked<()> {
    match change {
        MembershipChange::Add(spec) => {
            if let Err(reason) = check_organisation(spec) {
                return Ok(Err(Failure::new("invalid_organisation", reason)));
            }
            if domain::organisation(store, &spec.id).await?.is_some() {
                return Ok(Err(Failure::new(
                    "organisation_exists",
                    format!("id '{}' is taken", spec.id),
                )));
            }
            if domain::agent(store, &spec.admin).await?.is_some() {
                return Ok(Err(Failure::new(
                    "agent_exists",
                    "the admin key is already an agent",
                )));
            }
            for prefix in &spec.company_prefixes {
                if let Some(owner) = domain::owner_of_prefix(store, prefix).await? {
                    return Ok(Err(Failure::new(
                        "prefix_taken",
                        format!("company prefix {prefix} belongs to '{owner}'"),
                    )));
                }
            }
            for gln in &spec.glns {
                if let Some(owner) = domain::owner_of_gln(store, gln).await? {
                    return Ok(Err(Failure::new(
                        "gln_taken",
                        format!("GLN {gln} belongs to '{owner}'"),
                    )));
                }
            }
        }
        MembershipChange::Remove { organisation } => {
            let active = domain::organisation(store, organisation)
                .await?
                .is_some_and(|o| o.active);
            if !active {
                return Ok(Err(Failure::new(
                    "unknown_organisation",
                    format!("'{organisation}' is not an active member"),
                )));
            }
            if domain::members(store).await?.len() <= 1 {
                return Ok(Err(Failure::new(
                    "last_member",
                    "the last member cannot be removed",
                )));
            }
        }
    }
    Ok(Ok(()))
}

pub(crate) async fn propose(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    change: &MembershipChange,
) -> Checked<Vec<LogRecord>> {
    let org = match acting_admin(store, tx.sender()).await? {
        Ok(org) => org,
        Err(failure) => return Ok(Err(failure)),
    };
    if let Err(failure) = check_change(store, change).await? {
        return Ok(Err(failure));
    }
    let mut approvals = BTreeSet::new();
    approvals.insert(org.id.clone());
    let mut proposal = ProposalRecord {
        change: ProposedChange::from_change(change),
        proposer: org.id,
        approvals,
        created_height: env.height,
        status: ProposalStatus::Pending,
    };
    let mut logs = vec![log(RecordKind::ProposalCreated, tx.id(), tx.id())];
    logs.extend(settle(store, env, &tx.id(), &mut proposal).await?);
    domain::put_proposal(store, &tx.id(), &proposal);
    Ok(Ok(logs))
}

pub(crate) async fn approve(
    store: &mut impl Store,
    env: &BlockEnv,
    tx: &Transaction,
    id: &Digest,
) -> Checked<Vec<LogRecord>> {
    let org = match acting_admin(store, tx.sender()).await? {
        Ok(org) => org,
        Err(failure) => return Ok(Err(failure)),
    };
    let Some(mut proposal) = domain::proposal(store, id).await? else {
        return Ok(Err(Failure::new(
            "unknown_proposal",
            "no proposal has this id",
        )));
    };
    if proposal.status != ProposalStatus::Pending {
        return Ok(Err(Failure::new(
            "proposal_closed",
            "the proposal is no longer pending",
        )));
    }
    if !proposal.approvals.insert(org.id.clone()) {
        return Ok(Err(Failure::new(
            "already_approved",
            format!("'{}' already approved", org.id),
        )));
    }
    let logs = settle(store, env, id, &mut proposal).await?;
    domain::put_proposal(store, id, &proposal);
    Ok(Ok(logs))
}

/// Applies the proposal if more than two thirds of the active members
/// approved it (approvals of members that left do not count).
async fn settle(
    store: &mut impl Store,
    env: &BlockEnv,
    id: &Digest,
    proposal: &mut ProposalRecord,
) -> Result<Vec<LogRecord>, RecordError> {
    let members = domain::members(store).await?;
    let approving = proposal.approvals.intersection(&members).count();
    if approving * 3 <= members.len() * 2 {
        return Ok(Vec::new());
    }
    let Some(change) = proposal.change.to_change() else {
        proposal.status = rejected(env, "stored change is unreadable");
        return Ok(Vec::new());
    };
    if let Err(failure) = check_change(store, &change).await? {
        proposal.status = rejected(env, &failure.reason);
        return Ok(Vec::new());
    }
    proposal.status = ProposalStatus::Applied { height: env.height };
    match change {
        MembershipChange::Add(spec) => {
            join(store, &spec, env.height).await?;
            Ok(vec![log(
                RecordKind::OrganisationJoined,
                *id,
                hash(spec.id.as_bytes()),
            )])
        }
        MembershipChange::Remove { organisation } => {
            if let Some(mut record) = domain::organisation(store, &organisation).await? {
                record.active = false;
                record.left_height = Some(env.height);
                domain::put_organisation(store, &record);
            }
            let mut members = members;
            members.remove(&organisation);
            domain::put_members(store, &members);
            Ok(vec![log(
                RecordKind::OrganisationLeft,
                *id,
                hash(organisation.as_bytes()),
            )])
        }
    }
}

fn rejected(env: &BlockEnv, reason: &str) -> ProposalStatus {
    ProposalStatus::Rejected {
        height: env.height,
        reason: reason.to_string(),
    }
}
