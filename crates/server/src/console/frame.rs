//! The frame around every console page: the header with the user, their role, the language
//! switch and logout, and the navigation with only the pages the role may use (from the one
//! permission table in [`crate::policy`]). A later capability adds its pages to [`NAV`].

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::i18n::{Lang, M};
use super::query::PageQuery;
use super::viewer::Viewer;
use super::Failure;
use crate::policy::{allows, Action};
use crate::AppState;

/// One entry of the navigation.
pub struct NavEntry {
    pub section: M,
    pub label: M,
    pub href: &'static str,
    /// Who may open it.
    pub action: Action,
    pub testid: &'static str,
}

/// Every console page reachable from the navigation, in order, grouped by section.
pub const NAV: &[NavEntry] = &[
    NavEntry {
        section: M::SectionWork,
        label: M::Dashboard,
        href: "/console/dashboard",
        action: Action::ViewDashboard,
        testid: "nav-dashboard",
    },
    NavEntry {
        section: M::SectionWork,
        label: M::Search,
        href: "/console/search",
        action: Action::ViewEntities,
        testid: "nav-search",
    },
    NavEntry {
        section: M::SectionWork,
        label: M::Warnings,
        href: "/console/warnings",
        action: Action::ViewWarnings,
        testid: "nav-warnings",
    },
    NavEntry {
        section: M::SectionWork,
        label: M::PrecisionPage,
        href: "/console/precision",
        action: Action::ViewPrecision,
        testid: "nav-precision",
    },
    NavEntry {
        section: M::SectionWork,
        label: M::AppealsPage,
        href: "/console/appeals",
        action: Action::ViewAppeals,
        testid: "nav-appeals",
    },
    NavEntry {
        section: M::SectionWork,
        label: M::RulesPage,
        href: "/console/rules",
        action: Action::ViewPrecision,
        testid: "nav-rules",
    },
    NavEntry {
        section: M::SectionWork,
        label: M::ThresholdsPage,
        href: "/console/thresholds",
        action: Action::ViewPrecision,
        testid: "nav-thresholds",
    },
    NavEntry {
        section: M::SectionWork,
        label: M::InstitutionsPage,
        href: "/console/institutions",
        action: Action::ViewPrecision,
        testid: "nav-institutions",
    },
    NavEntry {
        section: M::SectionWork,
        label: M::ModelsPage,
        href: "/console/models",
        action: Action::ViewPrecision,
        testid: "nav-models",
    },
    NavEntry {
        section: M::SectionLinkage,
        label: M::IntakePage,
        href: "/console/intake",
        action: Action::ViewTraces,
        testid: "nav-intake",
    },
    NavEntry {
        section: M::SectionLinkage,
        label: M::OrdersPage,
        href: "/console/orders",
        action: Action::ViewOrders,
        testid: "nav-orders",
    },
    NavEntry {
        section: M::SectionLinkage,
        label: M::DuePage,
        href: "/console/orders/due",
        action: Action::ViewOrders,
        testid: "nav-due",
    },
    NavEntry {
        section: M::SectionLinkage,
        label: M::CasesPage,
        href: "/console/cases",
        action: Action::ViewTraces,
        testid: "nav-cases",
    },
    NavEntry {
        section: M::SectionAdmin,
        label: M::OperationsPage,
        href: "/console/admin/operations",
        action: Action::Operate,
        testid: "nav-operations",
    },
    NavEntry {
        section: M::SectionAdmin,
        label: M::AdminUsers,
        href: "/console/admin/users",
        action: Action::Administer,
        testid: "nav-users",
    },
    NavEntry {
        section: M::SectionAdmin,
        label: M::AdminKeys,
        href: "/console/admin/keys",
        action: Action::Administer,
        testid: "nav-keys",
    },
    NavEntry {
        section: M::SectionAudit,
        label: M::AuditLog,
        href: "/console/audit",
        action: Action::Audit,
        testid: "nav-audit",
    },
    NavEntry {
        section: M::SectionAudit,
        label: M::AuditVerify,
        href: "/console/audit/verify",
        action: Action::Audit,
        testid: "nav-verify",
    },
    NavEntry {
        section: M::SectionAudit,
        label: M::InsiderFlags,
        href: "/console/audit/flags",
        action: Action::Audit,
        testid: "nav-flags",
    },
];

pub struct NavLink {
    pub label: &'static str,
    pub href: &'static str,
    pub testid: &'static str,
    pub active: bool,
}

pub struct NavGroup {
    pub label: &'static str,
    pub links: Vec<NavLink>,
}

/// Who is logged in, as the header shows them.
pub struct FrameUser {
    pub username: String,
    pub role: String,
    pub csrf: String,
}

/// What the frame template needs.
pub struct Frame {
    pub lang: Lang,
    pub title: String,
    pub user: Option<FrameUser>,
    pub nav: Vec<NavGroup>,
    /// Unreviewed insider flags (auditors only).
    pub flag_badge: Option<u64>,
    pub lang_en: String,
    pub lang_zh: String,
}

impl Frame {
    pub fn t(&self, m: M) -> &'static str {
        self.lang.t(m)
    }

    /// The form token of the viewer's session, for the hidden field of every POST form.
    pub fn csrf(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.csrf.as_str())
    }

    pub fn is_zh(&self) -> bool {
        self.lang == Lang::Zh
    }

    pub fn badge_is_zero(&self) -> bool {
        self.flag_badge == Some(0)
    }

    /// The frame of a logged-in viewer's page.
    pub async fn new(state: &AppState, viewer: &Viewer, title: impl Into<String>) -> Frame {
        let lang = viewer.lang;
        let path = viewer.query.path();
        let mut nav: Vec<NavGroup> = Vec::new();
        // The longest matching prefix is the active entry (`/console/audit/flags` is not
        // also `/console/audit`).
        let active = NAV
            .iter()
            .filter(|e| path == e.href || path.starts_with(&format!("{}/", e.href)))
            .max_by_key(|e| e.href.len())
            .map(|e| e.href);
        for e in NAV.iter().filter(|e| allows(viewer.user.role, e.action)) {
            let link = NavLink {
                label: lang.t(e.label),
                href: e.href,
                testid: e.testid,
                active: active == Some(e.href),
            };
            match nav.last_mut() {
                Some(g) if g.label == lang.t(e.section) => g.links.push(link),
                _ => nav.push(NavGroup {
                    label: lang.t(e.section),
                    links: vec![link],
                }),
            }
        }
        let flag_badge = if allows(viewer.user.role, Action::Audit) {
            unreviewed_flags(state, viewer).await
        } else {
            None
        };
        Frame {
            lang,
            title: title.into(),
            user: Some(FrameUser {
                username: viewer.username.clone(),
                role: lang.term(viewer.user.role.as_str()).into_owned(),
                csrf: viewer.csrf.clone(),
            }),
            nav,
            flag_badge,
            lang_en: viewer.query.href(&[("lang", Some("en"))]),
            lang_zh: viewer.query.href(&[("lang", Some("zh"))]),
        }
    }

    /// The frame of a page without a logged-in user (login, errors before login).
    pub fn anonymous(lang: Lang, query: &PageQuery, title: impl Into<String>) -> Frame {
        Frame {
            lang,
            title: title.into(),
            user: None,
            nav: Vec::new(),
            flag_badge: None,
            lang_en: query.href(&[("lang", Some("en"))]),
            lang_zh: query.href(&[("lang", Some("zh"))]),
        }
    }
}

/// How many insider flags wait for review; `None` (no badge) if they cannot be counted, so
/// a failing flag table never takes the auditor's pages down with it.
async fn unreviewed_flags(state: &AppState, viewer: &Viewer) -> Option<u64> {
    match crate::service::flags(state, &viewer.user).await {
        Ok(flags) => Some(flags.iter().filter(|f| f.reviewed_by.is_none()).count() as u64),
        Err(e) => {
            tracing::warn!("counting insider flags: {}", e.message);
            None
        }
    }
}

/// Renders a page with status 200.
pub fn page(t: &impl Template) -> Response {
    page_with_status(StatusCode::OK, t)
}

/// Renders a page; a template failure (a bug, not the client's) is a 500 error page.
pub fn page_with_status(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!("rendering a console page: {e}");
            Failure::new(StatusCode::INTERNAL_SERVER_ERROR, M::ServerError).into_response()
        }
    }
}
