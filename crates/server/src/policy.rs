//! Who may do what: the one table of role permissions, and the [`Scope`] a caller's reads
//! are narrowed to. Handlers ask here; the store enforces the scope inside its queries.

use fanzha_core::vocab::Role;
use fanzha_store::Scope;

/// What part of the district a role works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remit {
    /// The anti-fraud centre: the whole district.
    District,
    /// A bank or carrier: its own institution (the user or key names it).
    Institution,
    /// A police station or a community: a jurisdiction (the user names it).
    Jurisdiction,
    /// No personal data at all (admin, publicity, auditor work on users, aggregates, logs).
    NoPersons,
}

pub fn remit(role: Role) -> Remit {
    match role {
        Role::Commander | Role::Analyst | Role::Approver => Remit::District,
        Role::BankOperator | Role::CarrierOperator => Remit::Institution,
        Role::StationLeader | Role::StationOfficer | Role::CommunityWorker => Remit::Jurisdiction,
        Role::Admin | Role::Publicity | Role::Auditor => Remit::NoPersons,
    }
}

/// The actions the permission table answers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Search and open profiles (masked).
    ViewEntities,
    /// Unmask one field of one entity, with a typed reason.
    Reveal,
    /// The dashboard's figures.
    ViewDashboard,
    /// Users, roles and API keys.
    Administer,
    /// The audit trail, its verification and the insider flags.
    Audit,
    /// Two-card risk warnings (list and detail, masked), within the caller's scope: the
    /// centre sees the district's; a station its jurisdiction's (the holder lives there); a
    /// bank or carrier the warnings it owns and must act on.
    ViewWarnings,
    /// An institution's answer to a warning it owns: confirmed, false alarm, action taken.
    AnswerWarning,
    /// Precision per pattern, rule and institution: figures about the engine and the
    /// institutions, naming no one.
    ViewPrecision,
    /// Decide an appeal (申诉) against a warning's measure.
    DecideAppeal,
    /// Record an appeal (申诉, Art. 32) against a warning's measure on the restricted
    /// person's behalf, for a warning within the caller's scope: the bank or carrier that
    /// applied the measure, the station the person walks into, or the centre.
    FileAppeal,
    /// The appeals queue: open appeals with their age, and the decided ones.
    ViewAppeals,
    /// Record a threshold decision: a pattern's level cut-off moves only this way.
    DecideThreshold,
    /// Delivery operations: counts of warnings and deliveries, re-queuing dead letters.
    Operate,
    /// Ask for a real-time decision on a payment, call or SMS, or an account-opening check
    /// (issue 5, section 6): what a bank's or carrier's systems do before they act.
    Decide,
    /// Follow a report's money (fund tracing), within the caller's scope of reports.
    ViewTraces,
    /// Stop-payment, freeze, renewal, release and return orders within the caller's scope
    /// (a bank: the orders on its own accounts, which it must execute), an account's freeze
    /// registry and its return plan.
    ViewOrders,
    /// File a case, plan and draft orders, submit or withdraw them, mark them sent.
    DraftOrders,
    /// Sign an order at the approver's level (county, or prefecture for a prefecture code).
    ApproveOrders,
    /// The bank's answer to an order on its own account: executed, refused, insufficient.
    AnswerOrders,
}

/// Whether `role` may do `action` at all (the scope then narrows what it sees).
pub fn allows(role: Role, action: Action) -> bool {
    use Role::*;
    match action {
        Action::ViewEntities => remit(role) != Remit::NoPersons,
        // Commanders read figures and community workers visit people; neither needs raw
        // identifiers, so neither can unmask them.
        Action::Reveal => matches!(
            role,
            Analyst | Approver | StationLeader | StationOfficer | BankOperator | CarrierOperator
        ),
        Action::ViewDashboard => !matches!(role, BankOperator | CarrierOperator),
        Action::Administer => role == Admin,
        Action::Audit => role == Auditor,
        // Community workers visit people and get dissuasion tasks, not warnings about cards;
        // roles without personal data see none.
        Action::ViewWarnings => matches!(
            role,
            Commander
                | Analyst
                | Approver
                | StationLeader
                | StationOfficer
                | BankOperator
                | CarrierOperator
        ),
        // Only the owning institution answers: its answer is what precision is counted from.
        Action::AnswerWarning => matches!(role, BankOperator | CarrierOperator),
        // The centre tunes the rules; the auditor watches that false alarms do not fall on
        // some institutions more than others. A bank is not shown its competitors' figures.
        Action::ViewPrecision => matches!(role, Commander | Analyst | Approver | Auditor),
        // A review of a restriction is the approver's: independent of the analyst who
        // raised the case and of the commander who directs the operation.
        Action::DecideAppeal => role == Approver,
        // Whoever the person can turn to: the institution that restricted them, the police
        // (station or centre). Commanders direct operations and do not take complaints.
        Action::FileAppeal => matches!(
            role,
            Analyst | Approver | StationLeader | StationOfficer | BankOperator | CarrierOperator
        ),
        // The reviewer works the queue; the centre watches how long people wait.
        Action::ViewAppeals => matches!(role, Commander | Analyst | Approver),
        // A cut-off decides how many people are restricted: the commander's call, on the
        // analysts' evaluation, recorded for the auditors.
        Action::DecideThreshold => role == Commander,
        Action::Operate => role == Admin,
        // Institutions' systems call these with their API keys, before they act.
        Action::Decide => matches!(role, BankOperator | CarrierOperator),
        // Reports are taken and traced by the centre and the stations; banks see the orders
        // on their accounts, not the victims' whole story.
        Action::ViewTraces => matches!(
            role,
            Commander | Analyst | Approver | StationLeader | StationOfficer
        ),
        Action::ViewOrders => matches!(
            role,
            Commander | Analyst | Approver | StationLeader | StationOfficer | BankOperator
        ),
        // Whoever takes the report drafts the stop (the 30 minutes do not wait for the
        // centre); the approver who signs an order does not also draft it.
        Action::DraftOrders => matches!(role, Analyst | StationLeader | StationOfficer),
        Action::ApproveOrders => role == Approver,
        Action::AnswerOrders => role == BankOperator,
    }
}

/// The scope of a caller with this role, institution and jurisdiction; `None` when the
/// role sees no personal data or lacks the institution or jurisdiction its remit needs
/// (such a caller sees nothing rather than everything).
pub fn scope(role: Role, institution: Option<&str>, jurisdiction: Option<&str>) -> Option<Scope> {
    match remit(role) {
        Remit::District => Some(Scope::All),
        Remit::Institution => institution.map(|i| Scope::Institution(i.to_owned())),
        Remit::Jurisdiction => jurisdiction.map(|j| Scope::Jurisdiction(j.to_owned())),
        Remit::NoPersons => None,
    }
}

/// The scope of a caller's aggregate figures (the dashboard): as [`scope`], except that
/// roles without personal data see the district's figures, which name no one.
pub fn figures_scope(
    role: Role,
    institution: Option<&str>,
    jurisdiction: Option<&str>,
) -> Option<Scope> {
    match remit(role) {
        Remit::NoPersons => Some(Scope::All),
        _ => scope(role, institution, jurisdiction),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_role_without_its_tenant_sees_nothing() {
        assert_eq!(scope(Role::BankOperator, None, Some("500103")), None);
        assert_eq!(scope(Role::StationOfficer, Some("ICBC"), None), None);
        assert_eq!(
            scope(Role::BankOperator, Some("ICBC"), None),
            Some(Scope::Institution("ICBC".into()))
        );
        assert_eq!(scope(Role::Analyst, None, None), Some(Scope::All));
        assert_eq!(scope(Role::Auditor, None, None), None);
    }

    #[test]
    fn figures_follow_the_remit_and_name_no_one_for_the_rest() {
        assert_eq!(
            figures_scope(Role::StationOfficer, None, Some("500103001")),
            Some(Scope::Jurisdiction("500103001".into()))
        );
        assert_eq!(figures_scope(Role::Publicity, None, None), Some(Scope::All));
        assert_eq!(figures_scope(Role::CommunityWorker, None, None), None);
    }

    #[test]
    fn warnings_are_seen_only_by_roles_with_a_scope_and_answered_by_their_owners() {
        for &role in Role::ALL {
            if allows(role, Action::ViewWarnings) {
                assert!(
                    scope(role, Some("ICBC"), Some("500103")).is_some(),
                    "{role}"
                );
            }
            if allows(role, Action::AnswerWarning) {
                assert_eq!(remit(role), Remit::Institution, "{role}");
                assert!(allows(role, Action::ViewWarnings), "{role}");
            }
        }
        assert!(!allows(Role::CommunityWorker, Action::ViewWarnings));
        assert!(!allows(Role::BankOperator, Action::ViewPrecision));
        assert!(allows(Role::Auditor, Action::ViewPrecision));
    }

    #[test]
    fn appeals_are_filed_within_a_scope_and_decided_by_the_approver_alone() {
        for &role in Role::ALL {
            if allows(role, Action::FileAppeal) {
                assert!(allows(role, Action::ViewWarnings), "{role}");
            }
        }
        let deciders: Vec<Role> = Role::ALL
            .iter()
            .copied()
            .filter(|&r| allows(r, Action::DecideAppeal))
            .collect();
        assert_eq!(deciders, [Role::Approver]);
        assert!(allows(Role::Approver, Action::ViewAppeals));
        assert!(!allows(Role::Analyst, Action::DecideThreshold));
    }

    #[test]
    fn orders_are_drafted_signed_and_answered_by_different_hands() {
        for &role in Role::ALL {
            let n = [
                Action::DraftOrders,
                Action::ApproveOrders,
                Action::AnswerOrders,
            ]
            .into_iter()
            .filter(|&a| allows(role, a))
            .count();
            assert!(
                n <= 1,
                "{role} may do more than one of draft, approve, answer"
            );
            if allows(role, Action::AnswerOrders) {
                assert_eq!(remit(role), Remit::Institution, "{role}");
            }
            if n > 0 {
                assert!(allows(role, Action::ViewOrders), "{role}");
            }
        }
        assert!(!allows(Role::BankOperator, Action::ViewTraces));
    }

    #[test]
    fn only_roles_that_see_persons_may_reveal() {
        for &role in Role::ALL {
            if allows(role, Action::Reveal) {
                assert!(allows(role, Action::ViewEntities), "{role}");
            }
        }
    }
}
