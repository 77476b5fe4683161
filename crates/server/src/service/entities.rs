//! Search, profiles, reveal, and the older person-by-id look-up.

use std::ops::RangeInclusive;

use fanzha_store::{EntityKind, EntityRef, Field, Profile, Scope};
use serde_json::json;

use super::record;
use super::view::{
    masked, yuan, AttributeView, EntityView, EventView, HitView, LinkView, PersonView, ProfileView,
    RevealView, TimeView,
};
use crate::auth::CurrentUser;
use crate::error::{ApiError, Code};
use crate::policy::{self, Action};
use crate::AppState;

/// Longer than any id, number or name anyone types.
pub const MAX_QUERY_CHARS: usize = 100;
/// The most hits a search returns: a search finds, it does not list.
pub const SEARCH_LIMIT: u32 = 50;
/// The most links and the most history events a profile shows.
pub const PROFILE_LIMIT: u32 = 100;
/// A reveal's reason, trimmed: long enough to say why, short enough to read.
pub const REASON_CHARS: RangeInclusive<usize> = 10..=500;
/// Longer than any identity document number by a wide margin.
const MAX_PERSON_ID_CHARS: usize = 64;
/// Longer than any attribute key.
const MAX_FIELD_CHARS: usize = 64;

/// Entities within the caller's scope matching `q`, as typed: an exact id, account number,
/// MSISDN or device id, or the start of a name. The query is audited raw (the searcher
/// typed it); the hits come back masked, with handles.
pub async fn search(
    state: &AppState,
    user: &CurrentUser,
    q: &str,
) -> Result<Vec<HitView>, ApiError> {
    user.allow(Action::ViewEntities)?;
    let scope = user.scope()?;
    let q = q.trim();
    if q.is_empty() {
        return Err(ApiError::parameter(
            "q",
            "type an id, a number or the start of a name",
        ));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::parameter(
            "q",
            format!("a search has at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    if q.chars().any(char::is_control) {
        return Err(ApiError::parameter(
            "q",
            "a search has no control characters",
        ));
    }
    let hits = state.store.search(&scope, q, SEARCH_LIMIT).await?;
    record(state, user, "search", json!({ "q": q, "hits": hits.len() })).await?;
    Ok(hits
        .iter()
        .map(|h| HitView {
            entity: EntityView::new(&state.handles, &h.entity),
            matched: h.matched.to_owned(),
            label: masked(&h.label, h.label_field),
        })
        .collect())
}

/// The profile of the entity a handle names, masked; 404 when it is missing or outside the
/// caller's scope (the two answer alike, and the audit entry tells them apart).
pub async fn profile(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
) -> Result<ProfileView, ApiError> {
    user.allow(Action::ViewEntities)?;
    let scope = user.scope()?;
    let entity = super::open_handle(state, handle, "search again")?;
    let found = fetch(state, &scope, &entity, PROFILE_LIMIT).await?;
    record_lookup(state, user, &entity, &found).await?;
    let profile = found.profile.ok_or_else(entity_not_found)?;
    Ok(profile_view(state, user, profile))
}

/// One field of an entity, unmasked: `field` is an attribute key whose value is personal,
/// or `id` for the entity's own id. Needs a role that may reveal, a reason of
/// [`REASON_CHARS`] characters, and the entity in the caller's scope; recorded as
/// `reveal.<kind>` before the value is returned.
pub async fn reveal(
    state: &AppState,
    user: &CurrentUser,
    handle: &str,
    field: &str,
    reason: &str,
) -> Result<RevealView, ApiError> {
    user.allow(Action::Reveal)?;
    let scope = user.scope()?;
    let reason = reason.trim();
    if !REASON_CHARS.contains(&reason.chars().count()) {
        return Err(ApiError::invalid_field(
            "reason",
            format!(
                "say why you need the value, in {} to {} characters",
                REASON_CHARS.start(),
                REASON_CHARS.end()
            ),
        ));
    }
    if field.is_empty() || field.chars().count() > MAX_FIELD_CHARS {
        return Err(ApiError::invalid_field(
            "field",
            "name one field of the entity",
        ));
    }
    let entity = super::open_handle(state, handle, "search again")?;
    let found = fetch(state, &scope, &entity, 0).await?;
    let Some(profile) = found.profile.as_ref() else {
        // Not revealed, but asked for: the attempt is a look-up on record.
        record_lookup(state, user, &entity, &found).await?;
        return Err(entity_not_found());
    };
    let value = if field == "id" {
        entity.id.clone()
    } else {
        profile
            .attributes
            .iter()
            .find(|a| a.key == field && a.field != Field::Plain)
            .map(|a| a.value.clone())
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "field",
                    format!(
                        "a {} has no personal field of that name to reveal",
                        entity.kind.as_str()
                    ),
                )
            })?
    };
    let entry = record(
        state,
        user,
        &format!("reveal.{}", entity.kind.as_str()),
        json!({
            "id": entity.id,
            "field": field,
            "reason": reason,
            "community": profile.community_code,
        }),
    )
    .await?;
    Ok(RevealView {
        entity: EntityView::new(&state.handles, &entity),
        field: field.to_owned(),
        value,
        audit_id: entry.id,
    })
}

/// A person by identity document number, masked, within the caller's scope (the older
/// endpoint, kept for clients that hold ids; audited like a profile).
pub async fn person_by_id(
    state: &AppState,
    user: &CurrentUser,
    person_id: &str,
) -> Result<PersonView, ApiError> {
    user.allow(Action::ViewEntities)?;
    let scope = user.scope()?;
    if person_id.chars().count() > MAX_PERSON_ID_CHARS {
        return Err(ApiError::parameter(
            "person_id",
            format!("a person id has at most {MAX_PERSON_ID_CHARS} characters"),
        ));
    }
    let person = state.store.person(&scope, person_id).await?;
    let outside = match (&person, &scope) {
        (Some(_), _) | (None, Scope::All) => None,
        (None, _) => state.store.person(&Scope::All, person_id).await?,
    };
    let entity = EntityRef {
        kind: EntityKind::Person,
        id: person_id.to_owned(),
    };
    let found = Found {
        in_scope: person.is_some() || outside.is_none(),
        exists: person.is_some() || outside.is_some(),
        community: person
            .as_ref()
            .or(outside.as_ref())
            .and_then(|p| p.community_code.clone()),
        profile: None,
    };
    record_lookup(state, user, &entity, &found).await?;
    let p = person.ok_or_else(|| {
        ApiError::new(Code::PersonNotFound, "no such person").with_field("person_id")
    })?;
    Ok(PersonView {
        handle: state.handles.seal(&entity),
        id_number: fanzha_core::mask::id_number(&p.person_id),
        id_kind: p.id_kind,
        name: p.name.as_deref().map(fanzha_core::mask::name),
        phone: p.phone.as_deref().map(fanzha_core::mask::phone),
        community_code: p.community_code,
        tags: p.tags,
    })
}

/// What a look-up found: the profile if in scope, and for the audit trail whether the entity
/// exists at all and its community.
struct Found {
    profile: Option<Profile>,
    exists: bool,
    /// False only when the entity exists outside the caller's scope.
    in_scope: bool,
    community: Option<String>,
}

async fn fetch(
    state: &AppState,
    scope: &Scope,
    entity: &EntityRef,
    limit: u32,
) -> Result<Found, ApiError> {
    if let Some(p) = state.store.profile(scope, entity, limit).await? {
        return Ok(Found {
            community: p.community_code.clone(),
            exists: true,
            in_scope: true,
            profile: Some(p),
        });
    }
    // Out of scope or missing? Asked without the scope only to record which: the answer
    // is the same 404 either way, so the caller learns nothing of other tenants.
    let outside = match scope {
        Scope::All => None,
        _ => state.store.profile(&Scope::All, entity, 0).await?,
    };
    Ok(Found {
        exists: outside.is_some(),
        in_scope: outside.is_none(),
        community: outside.and_then(|p| p.community_code),
        profile: None,
    })
}

async fn record_lookup(
    state: &AppState,
    user: &CurrentUser,
    entity: &EntityRef,
    found: &Found,
) -> Result<(), ApiError> {
    record(
        state,
        user,
        &format!("lookup.{}", entity.kind.as_str()),
        json!({
            "id": entity.id,
            "community": found.community,
            "found": found.exists,
            "in_scope": found.in_scope,
        }),
    )
    .await?;
    Ok(())
}

fn entity_not_found() -> ApiError {
    ApiError::new(Code::EntityNotFound, "no such entity").with_field("handle")
}

fn profile_view(state: &AppState, user: &CurrentUser, p: Profile) -> ProfileView {
    let can_reveal = policy::allows(user.role, Action::Reveal);
    let entity = |e: &EntityRef| EntityView::new(&state.handles, e);
    ProfileView {
        entity: entity(&p.entity),
        community_code: p.community_code,
        attributes: p
            .attributes
            .iter()
            .map(|a| AttributeView {
                key: a.key.to_owned(),
                value: masked(&a.value, a.field),
                field: a.field,
                revealable: can_reveal && a.field != Field::Plain,
            })
            .collect(),
        links: p
            .links
            .iter()
            .map(|l| LinkView {
                relation: l.relation.to_owned(),
                target: entity(&l.target),
                weight: l.weight,
                first_at: l.first_at.map(TimeView::new),
                last_at: l.last_at.map(TimeView::new),
            })
            .collect(),
        history: p
            .history
            .iter()
            .map(|e| EventView {
                at: TimeView::new(e.at),
                what: e.what.to_owned(),
                counterparty: e.counterparty.as_ref().map(entity),
                amount_fen: e.amount_fen,
                amount_yuan: e.amount_fen.map(yuan),
                note: fanzha_core::mask::digits_in_text(&e.note),
            })
            .collect(),
        can_reveal,
    }
}
