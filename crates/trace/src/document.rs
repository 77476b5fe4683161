//! The documents orders are sent as (LEGAL.md), drafted in zh-CN: 紧急止付通知书,
//! 协助冻结财产通知书, 协助继续冻结财产通知书, 协助解除冻结财产通知书 and
//! 冻结资金协助返还通知书. A [`Document`] is structured (title, number, addressee, body
//! paragraphs, the particulars as rows) so the console prints it as a page and the CLI as
//! text from one source; the legal wording lives here only.
//!
//! The text follows the public standard forms in substance (the legal basis, what is to be
//! done, the particulars the bank checks, the term and the issuer), not their typography.

use fanzha_core::time::Instant;
use fanzha_core::Money;
use fanzha_store::{Case, Order};
use serde::Serialize;

use crate::orders::{Answer, OrderKind};

/// A drafted document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub title: &'static str,
    /// 冻结〔2026〕12号; none before the order is approved (a draft is marked as such).
    pub number: Option<String>,
    /// The bank, by its code: the account's bank as the district's records hold it.
    pub addressee: String,
    pub paragraphs: Vec<String>,
    /// The particulars the bank checks, in order.
    pub rows: Vec<(String, String)>,
    /// Who issues it, and when it was signed (Asia/Shanghai date).
    pub issuer: String,
    pub signed: Option<String>,
    /// What the bank answered, once it has.
    pub receipt: Option<String>,
}

/// 人民币 in capitals (大写), as amounts on legal documents are written beside the figure so
/// a figure altered afterwards disagrees with its words.
pub fn capitals(fen: i64) -> String {
    const DIGITS: [&str; 10] = ["零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"];
    const SMALL: [&str; 4] = ["", "拾", "佰", "仟"];
    const BIG: [&str; 4] = ["", "万", "亿", "万亿"];
    if fen == 0 {
        return "零元整".into();
    }
    let negative = fen < 0;
    let fen = fen.unsigned_abs();
    let (mut yuan, jiao, cents) = (fen / 100, (fen / 10 % 10) as usize, (fen % 10) as usize);
    let mut groups = Vec::new();
    while yuan > 0 {
        groups.push((yuan % 10_000) as usize);
        yuan /= 10_000;
    }
    let mut out = String::new();
    // A zero is written once for any run of zeros between non-zero digits, across groups.
    let mut pending_zero = false;
    for (g, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            pending_zero = !out.is_empty();
            continue;
        }
        let digits = [group / 1000, group / 100 % 10, group / 10 % 10, group % 10];
        for (k, &d) in digits.iter().enumerate() {
            if d == 0 {
                pending_zero = !out.is_empty();
                continue;
            }
            if pending_zero {
                out.push('零');
                pending_zero = false;
            }
            out.push_str(DIGITS[d]);
            out.push_str(SMALL[3 - k]);
        }
        out.push_str(BIG[g.min(3)]);
    }
    if !out.is_empty() {
        out.push('元');
    }
    match (jiao, cents) {
        (0, 0) => out.push('整'),
        (j, 0) => {
            out.push_str(DIGITS[j]);
            out.push_str("角整");
        }
        (j, c) => {
            if j > 0 {
                out.push_str(DIGITS[j]);
                out.push('角');
            } else if !out.is_empty() {
                out.push('零');
            }
            out.push_str(DIGITS[c]);
            out.push('分');
        }
    }
    if negative {
        format!("负{out}")
    } else {
        out
    }
}

fn day(micros: i64) -> String {
    Instant::from_micros(micros).map_or_else(String::new, |t| {
        t.shanghai().format("%Y年%m月%d日").to_string()
    })
}

fn minute(micros: i64) -> String {
    Instant::from_micros(micros).map_or_else(String::new, |t| {
        t.shanghai().format("%Y年%m月%d日 %H时%M分").to_string()
    })
}

/// The issuer named on every document.
pub const ISSUER: &str = "本辖区公安机关 反诈中心";

impl Document {
    /// The document of an order; `case` is the case it is made under, where it has one.
    /// `bank` is the account's bank code where the district's records know it.
    pub fn of_order(o: &Order, case: Option<&Case>, bank: Option<&str>) -> Document {
        let kind = OrderKind::parse(&o.new.kind).unwrap_or(OrderKind::Stop);
        let amount = o.new.amount_fen;
        let amount_line = format!(
            "人民币 {} 元（大写：{}）",
            Money::from_fen(amount).yuan_string(),
            capitals(amount)
        );
        let case_line = case.map(|c| {
            format!(
                "{}（立案决定书 {}，{}立案{}）",
                c.case_id,
                c.filing_no,
                day(c.filed_at),
                if c.major { "，重大案件" } else { "" }
            )
        });
        let mut rows = vec![
            ("账户 / 卡号".to_owned(), o.new.account_id.clone()),
            (
                "开户机构".to_owned(),
                bank.unwrap_or("（以账户所属机构为准）").to_owned(),
            ),
        ];
        if let Some(c) = &case_line {
            rows.push(("所涉案件".to_owned(), c.clone()));
        }
        if let Some(r) = &o.new.report_id {
            rows.push(("报案编号".to_owned(), r.clone()));
        }
        let whole = o.new.basis == "whole_account";
        let scope = if whole {
            format!(
                "账户全部余额（理由：{}）",
                o.new.reason.as_deref().unwrap_or("未记录")
            )
        } else {
            "仅限上列数额（经资金查控核定的涉案资金），不含利息，账户其余资金不受影响".to_owned()
        };
        let term = |what: &str| match (o.effective_at, o.expires_at) {
            (Some(f), Some(t)) => format!("自{}起至{}止", minute(f), minute(t)),
            _ => format!("自执行之时起{what}"),
        };
        let paragraphs = match kind {
            OrderKind::Stop => {
                rows.push(("止付金额".into(), amount_line));
                rows.push(("止付期限".into(), term("四十八小时")));
                rows.push(("止付范围".into(), scope));
                vec![
                    "根据《中华人民共和国反电信网络诈骗法》第二十条及中国人民银行、工业和信息化部、公安部《关于建立电信网络新型违法犯罪涉案账户紧急止付和快速冻结机制的通知》（银发〔2016〕86号）的规定，我单位接报电信网络诈骗警情，经核查，需对下列账户内的涉案资金予以紧急止付，请予协助。".to_owned(),
                    "请核对账户名称、账号、金额及交易时间；相符的，请立即止付并反馈；不符的，请不予止付并反馈原因。同一账户止付累计不超过两次。".to_owned(),
                ]
            }
            OrderKind::Freeze | OrderKind::Renew => {
                let (verb, basis) = if kind == OrderKind::Renew {
                    ("继续冻结", "冻结期限届满前，因案件侦查需要，")
                } else {
                    ("冻结", "")
                };
                rows.push((format!("{verb}数额"), amount_line));
                rows.push((
                    format!("{verb}期限"),
                    term(if case.is_some_and(|c| c.major) {
                        "一年"
                    } else {
                        "六个月"
                    }),
                ));
                rows.push((format!("{verb}范围"), scope));
                vec![
                    format!(
                        "根据《中华人民共和国刑事诉讼法》第一百四十四条及《公安机关办理刑事案件程序规定》第二百三十九条至第二百四十七条之规定，{basis}我局办理{}需要{verb}下列财产，请予协助。",
                        case_line.as_deref().map_or_else(|| "案件".to_owned(), |c| format!("{c}一案"))
                    ),
                    "已被冻结的，不得重复冻结，可以轮候冻结；请按登记先后执行并反馈实际冻结数额。冻结期限届满未办理继续冻结的，冻结自动解除。".to_owned(),
                ]
            }
            OrderKind::Release => {
                rows.push(("解除冻结数额".into(), amount_line));
                vec![format!(
                    "经查，下列账户内被冻结的资金中上列数额与{}无关（或已无继续冻结之必要），根据《公安机关办理刑事案件程序规定》之规定，请予解除冻结。",
                    case_line.as_deref().unwrap_or("本案")
                )]
            }
            OrderKind::Return => {
                rows.push(("返还金额".into(), amount_line));
                vec![
                    format!(
                        "根据中国银行业监督管理委员会、公安部《电信网络新型违法犯罪案件冻结资金返还若干规定》，{}中被冻结的被害人资金权属明确、无争议，经审批决定返还，请于收到本通知之日起三个工作日内将上列款项划转至被害人原汇出账户（或其指定账户），并出具回执。",
                        case_line.as_deref().unwrap_or("本案")
                    ),
                    "返还不收取任何费用。返还后账户内剩余资金继续冻结至期限届满。".to_owned(),
                ]
            }
        };
        let receipt = o
            .answer
            .as_deref()
            .map(|a| match serde_json::from_str::<Answer>(a) {
                Ok(Answer::Executed { amount_fen }) => format!(
                    "已执行，实际{}人民币 {} 元（{}）",
                    match kind {
                        OrderKind::Stop => "止付",
                        OrderKind::Release => "解除冻结",
                        OrderKind::Return => "返还",
                        _ => "冻结",
                    },
                    Money::from_fen(amount_fen).yuan_string(),
                    o.answered_at.map(minute).unwrap_or_default()
                ),
                Ok(Answer::Insufficient { amount_fen }) => format!(
                    "余额不足，已按现有余额执行人民币 {} 元（{}）",
                    Money::from_fen(amount_fen).yuan_string(),
                    o.answered_at.map(minute).unwrap_or_default()
                ),
                Ok(Answer::Refused { reason }) => format!("未执行：{reason}"),
                Err(_) => a.to_owned(),
            });
        Document {
            title: kind.document_title(),
            number: o.document_no.clone(),
            addressee: bank.map_or_else(
                || "账户开户机构".to_owned(),
                |b| format!("{b}（账户开户机构）"),
            ),
            paragraphs,
            rows,
            issuer: ISSUER.to_owned(),
            signed: o.approved_at.map(day),
            receipt,
        }
    }

    /// The return decision (冻结资金返还决定书) of a round: the case, the account, the funds,
    /// and one row per share (the report, the victim, the amount in figures and capitals,
    /// the basis of the allocation), the fund-flow table the decision rests on. Before the
    /// decision it is the text published for objections (公告), marked as such.
    pub fn of_round(
        r: &fanzha_store::Round,
        shares: &[crate::returns::Allocation],
        case: Option<&Case>,
    ) -> Document {
        let basis = |b: crate::returns::Basis| match b {
            crate::returns::Basis::Intact => "原封未动的存入款项，原路返还",
            crate::returns::Basis::TimeMatched => "按时间顺序可确认为该被害人的款项",
            crate::returns::Basis::ProRata => "按被害人被骗金额占冻结资金的比例分配",
        };
        let mut rows = vec![
            ("账户 / 卡号".to_owned(), r.new.account_id.clone()),
            (
                "所涉案件".to_owned(),
                case.map_or_else(
                    || r.new.case_id.clone(),
                    |c| format!("{}（立案决定书 {}）", c.case_id, c.filing_no),
                ),
            ),
            (
                "本轮可返还资金".to_owned(),
                format!(
                    "人民币 {} 元（大写：{}）",
                    Money::from_fen(r.new.funds_fen).yuan_string(),
                    capitals(r.new.funds_fen)
                ),
            ),
        ];
        for s in shares {
            rows.push((
                format!("{} 被害人 {}", s.report, s.victim),
                format!(
                    "人民币 {} 元（大写：{}）；{}",
                    Money::from_fen(s.amount_fen).yuan_string(),
                    capitals(s.amount_fen),
                    basis(s.basis)
                ),
            ));
        }
        let decided = r.decision_no.is_some();
        let paragraphs = vec![
            format!(
                "根据中国银行业监督管理委员会、公安部《电信网络新型违法犯罪案件冻结资金返还若干规定》，经查，上列账户内被冻结的资金中，下列款项系{}的被害人资金，权属明确、无争议（第{}轮返还）。",
                case.map_or(r.new.case_id.as_str(), |c| c.case_id.as_str()),
                r.new.round
            ),
            if decided {
                "经审批，决定将下列款项返还被害人，由账户开户机构于收到协助返还通知书之日起三个工作日内划转至被害人原汇出账户或其指定账户，不收取任何费用。".to_owned()
            } else {
                format!(
                    "现予公告。对下列分配有异议的，请于{}前向本单位提出；期满无异议的，依法作出返还决定。",
                    minute(r.new.objections_until)
                )
            },
        ];
        Document {
            title: if decided {
                "冻结资金返还决定书"
            } else {
                "冻结资金返还公告"
            },
            number: r.decision_no.clone(),
            addressee: "各被害人及利害关系人".to_owned(),
            paragraphs,
            rows,
            issuer: ISSUER.to_owned(),
            signed: r.decided_at.map(day),
            receipt: None,
        }
    }

    /// The document as plain text, for the CLI and for printing without the console.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!("{}\n", self.title));
        s.push_str(&format!(
            "{}\n\n",
            self.number.as_deref().unwrap_or("（草稿：批准后编号）")
        ));
        s.push_str(&format!("{}：\n", self.addressee));
        for p in &self.paragraphs {
            s.push_str(&format!("    {p}\n"));
        }
        s.push('\n');
        for (k, v) in &self.rows {
            s.push_str(&format!("  {k}：{v}\n"));
        }
        s.push_str(&format!(
            "\n{}\n{}\n",
            self.issuer,
            self.signed.as_deref().unwrap_or("（未签发）")
        ));
        if let Some(r) = &self.receipt {
            s.push_str(&format!("\n回执：{r}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_is_published_for_objections_then_decided() {
        let mut r = fanzha_store::Round {
            id: 3,
            new: fanzha_store::NewRound {
                account_id: "6217000012345678".into(),
                case_id: "C1".into(),
                round: 1,
                funds_fen: 300_000,
                plan: String::new(),
                status: "noticed".into(),
                opened_by: "user:wang".into(),
                opened_at: 1_772_000_000_000_000,
                objections_until: 1_774_592_000_000_000,
            },
            decided_by: None,
            decided_at: None,
            decision_no: None,
        };
        let shares = [crate::returns::Allocation {
            report: "R1".into(),
            victim: "V1".into(),
            amount_fen: 200_000,
            basis: crate::returns::Basis::ProRata,
        }];
        let notice = Document::of_round(&r, &shares, None);
        assert_eq!(notice.title, "冻结资金返还公告");
        let text = notice.to_text();
        assert!(
            text.contains("提出异议") || text.contains("有异议"),
            "{text}"
        );
        assert!(
            text.contains("贰仟元整") && text.contains("叁仟元整"),
            "{text}"
        );
        assert!(
            text.contains("按被害人被骗金额占冻结资金的比例分配"),
            "{text}"
        );
        r.decision_no = Some("返还决〔2026〕3号".into());
        r.decided_at = Some(1_774_600_000_000_000);
        let decision = Document::of_round(&r, &shares, None);
        assert_eq!(decision.title, "冻结资金返还决定书");
        assert!(decision.to_text().contains("返还决〔2026〕3号"));
        assert!(decision.to_text().contains("三个工作日"));
    }

    #[test]
    fn amounts_are_written_in_capitals_with_one_zero_per_gap() {
        assert_eq!(capitals(0), "零元整");
        assert_eq!(capitals(100), "壹元整");
        assert_eq!(
            capitals(123_456_789),
            "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"
        );
        assert_eq!(capitals(1_000_100), "壹万零壹元整");
        assert_eq!(capitals(10_000_000_000), "壹亿元整");
        assert_eq!(capitals(10_005_000_000), "壹亿零伍万元整");
        assert_eq!(capitals(100_005), "壹仟元零伍分");
        assert_eq!(capitals(50), "伍角整");
        assert_eq!(capitals(2_003_040), "贰万零叁拾元肆角整");
    }

    fn order(kind: &str) -> Order {
        Order {
            id: 7,
            new: fanzha_store::NewOrder {
                kind: kind.into(),
                account_id: "6217000012345678".into(),
                report_id: Some("R1".into()),
                case_id: Some("C1".into()),
                amount_fen: 1_234_500,
                basis: "traced_holding".into(),
                reason: None,
                level: "county".into(),
                created_by: "user:wang".into(),
                created_at: 0,
                round_id: None,
            },
            status: "executed".into(),
            document_no: Some("冻结〔2026〕7号".into()),
            approved_by: Some("user:li".into()),
            approved_at: Some(1_772_000_000_000_000),
            answered_at: Some(1_772_000_100_000_000),
            answer: Some(r#"{"answer":"insufficient","amount_fen":1000000}"#.into()),
            held_fen: Some(1_000_000),
            effective_at: Some(1_772_000_100_000_000),
            expires_at: Some(1_787_000_000_000_000),
            updated_at: 0,
            disposed_at: None,
            disposition: None,
        }
    }

    #[test]
    fn a_freeze_names_the_case_the_amount_in_words_the_term_and_the_receipt() {
        let case = Case {
            case_id: "C1".into(),
            filing_no: "立〔2026〕3号".into(),
            filed_at: 1_771_000_000_000_000,
            major: false,
            report_ids: vec!["R1".into()],
            filed_by: "user:wang".into(),
            created_at: 0,
        };
        let d = Document::of_order(&order("freeze"), Some(&case), Some("ICBC"));
        assert_eq!(d.title, "协助冻结财产通知书");
        assert_eq!(d.addressee, "ICBC（账户开户机构）");
        let text = d.to_text();
        for needle in [
            "冻结〔2026〕7号",
            "第一百四十四条",
            "立〔2026〕3号",
            "人民币 12,345.00 元（大写：壹万贰仟叁佰肆拾伍元整）",
            "6217000012345678",
            "不含利息",
            "余额不足，已按现有余额执行人民币 10,000.00 元",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
        let stop = Document::of_order(&order("stop"), None, None);
        assert_eq!(stop.title, "紧急止付通知书");
        assert!(stop.to_text().contains("银发〔2016〕86号"));
        assert!(stop.to_text().contains("账户开户机构"));
    }
}
