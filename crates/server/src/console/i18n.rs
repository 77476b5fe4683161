//! The console's words in Chinese (the default) and English.
//!
//! Fixed labels are [`M`] variants: a label missing in one language does not compile. Words
//! that arrive as data (attribute keys, link relations, event kinds, roles, typologies,
//! audit actions) go through [`term`], which falls back to the key itself, so a new key from
//! the store shows up readable rather than blank; its test lists the keys the store documents.

use std::borrow::Cow;

/// The cookie remembering the chosen language.
pub const LANG_COOKIE: &str = "fanzha_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" | "zh-CN" | "zh-cn" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The `lang` attribute of the page.
    pub fn html_lang(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn t(self, m: M) -> &'static str {
        m.text(self)
    }

    /// A label with one `{}` filled in.
    pub fn fill(self, m: M, arg: impl std::fmt::Display) -> String {
        m.text(self).replacen("{}", &arg.to_string(), 1)
    }

    /// A label with each `{}` filled in turn.
    pub fn fill_all(self, m: M, args: &[&dyn std::fmt::Display]) -> String {
        args.iter().fold(m.text(self).to_owned(), |text, arg| {
            text.replacen("{}", &arg.to_string(), 1)
        })
    }

    /// A data word in this language (see [`term`]).
    pub fn term<'a>(self, key: &'a str) -> Cow<'a, str> {
        term(self, key)
    }
}

/// Declares [`M`] with its Chinese and English text: the one catalogue of fixed labels.
macro_rules! catalogue {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        /// A fixed label of the console.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum M { $($key,)* }

        impl M {
            #[cfg(test)]
            pub const ALL: &'static [M] = &[$(M::$key,)*];

            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((M::$key, Lang::Zh) => $zh, (M::$key, Lang::En) => $en,)*
                }
            }
        }
    };
}

catalogue! {
    AppName => "反诈联合作战平台", "Fanzha anti-fraud platform";
    AppShort => "反诈", "Fanzha";
    NavMain => "主导航", "Main navigation";
    Dashboard => "态势总览", "Dashboard";
    Search => "综合检索", "Search";
    AdminUsers => "用户管理", "Users";
    AdminKeys => "接口密钥", "API keys";
    AuditLog => "审计日志", "Audit log";
    AuditVerify => "链完整性", "Chain check";
    InsiderFlags => "内鬼预警", "Insider flags";
    SectionWork => "业务", "Work";
    SectionAdmin => "管理", "Administration";
    SectionAudit => "审计", "Audit";
    Logout => "退出", "Log out";
    LoggedInAs => "当前用户", "Signed in as";
    UnreviewedFlags => "未复核的内鬼预警", "Unreviewed insider flags";
    // Login.
    LoginTitle => "登录", "Log in";
    LoginLead => "请使用本单位分配的账号登录。所有查询均记入审计。", "Sign in with the account your unit issued. Every look-up is audited.";
    Username => "用户名", "Username";
    Password => "密码", "Password";
    Role => "角色", "Role";
    LoginSubmit => "登录", "Log in";
    WrongCredentials => "用户名或密码错误。", "Wrong username or password.";
    TooManyAttempts => "登录失败次数过多，请 {} 秒后再试。", "Too many failed logins; try again in {} seconds.";
    InputTooLong => "输入过长。", "Input too long.";
    // Tables.
    Filter => "筛选", "Filter";
    FilterPlaceholder => "在本表中筛选…", "Filter this table…";
    Apply => "应用", "Apply";
    Clear => "清除", "Clear";
    ExportCsv => "导出 CSV", "Export CSV";
    RowsTotal => "共 {} 条", "{} rows";
    PageOf => "第 {} 页，共 {} 页", "Page {} of {}";
    PerPage => "每页", "Per page";
    Prev => "上一页", "Previous";
    Next => "下一页", "Next";
    NoRows => "没有记录。", "No records.";
    SortBy => "按此列排序", "Sort by this column";
    Pagination => "分页", "Pagination";
    // Dashboard.
    DashboardLead => "辖区警情、发案与损失。数据截至 {}（北京时间）。", "Reports, cases and losses in your area. Data up to {} (Beijing time).";
    FiguresAsOf => "统计于 {}，每分钟更新。", "Figures computed at {}, refreshed every minute.";
    WindowDays => "近 {} 天", "Last {} days";
    KpiReports => "警情", "Reports (警情)";
    KpiCases => "发案", "Cases (发案)";
    KpiLoss => "损失（元）", "Loss (yuan)";
    VsPrevious => "较前 {} 天", "vs the previous {} days";
    NoChange => "持平", "no change";
    NewFromZero => "上期为零", "none before";
    TrendReports => "每日警情与发案", "Daily reports and cases";
    TrendLoss => "每日损失（元）", "Daily loss (yuan)";
    ByTypology => "诈骗类型分布", "By typology";
    Typology => "诈骗类型", "Typology";
    Reports => "警情", "Reports";
    Cases => "发案", "Cases";
    Loss => "损失（元）", "Loss (yuan)";
    Share => "占比", "Share";
    Day => "日期", "Day";
    DailyFigures => "逐日数据", "Daily figures";
    PanelWarnings => "风险预警", "Risk warnings";
    PanelDissuasions => "预警劝阻", "Dissuasion";
    PanelReturns => "冻结资金返还", "Returns to victims";
    ArrivesWithRisk => "随两卡风险预警引擎上线后显示。", "Arrives with the two-card risk engine.";
    ArrivesWithOps => "随预警劝阻工作流上线后显示。", "Arrives with the dissuasion workflow.";
    ArrivesWithTrace => "随资金查控与返还引擎上线后显示。", "Arrives with the tracing and returns engine.";
    // Search.
    SearchLead => "按身份证号、账号、手机号、设备号精确检索，或按姓名前缀检索。", "Exact id, account, phone or device number, or the beginning of a name.";
    SearchPlaceholder => "证件号 / 账号 / 手机号 / 设备号 / 姓名", "ID / account / phone / device / name";
    SearchSubmit => "检索", "Search";
    SearchAudited => "每次检索都会记入审计日志。", "Every search is recorded in the audit log.";
    Results => "检索结果", "Results";
    SearchCapped => "仅显示前 {} 条结果，请输入更完整的号码或姓名。", "Only the first {} results are shown; type more of the number or name.";
    EntityKind => "类别", "Kind";
    Matched => "命中字段", "Matched on";
    Identifier => "标识", "Identifier";
    Label => "说明", "Label";
    // Entity profile.
    Attributes => "基本信息", "Attributes";
    Attribute => "字段", "Field";
    Value => "值", "Value";
    Links => "关联关系", "Links";
    Relation => "关系", "Relation";
    Target => "对象", "Entity";
    Weight => "次数", "Count";
    FirstSeen => "首次", "First seen";
    LastSeen => "最近", "Last seen";
    History => "活动记录", "History";
    Time => "时间", "Time";
    Event => "事件", "Event";
    Counterparty => "对方", "Counterparty";
    Amount => "金额（元）", "Amount (yuan)";
    Note => "备注", "Note";
    WarningsLater => "风险预警随预警引擎上线后在此显示。", "Risk warnings show here once the warning engine lands.";
    Reveal => "查看完整信息", "Reveal a field";
    RevealLead => "默认脱敏显示。查看完整信息须填写事由，事由与查看行为记入审计。", "Values are masked. Revealing one needs a reason; both are recorded in the audit log.";
    RevealField => "字段", "Field";
    RevealReason => "事由", "Reason";
    RevealReasonPlaceholder => "例如：案件编号及查询目的", "e.g. case number and purpose";
    RevealSubmit => "查看并记录", "Reveal and record";
    ReasonLength => "请填写查看事由（{} 个字）。", "Give the reason for revealing ({} characters).";
    Revealed => "完整信息（已记录审计）", "Revealed (recorded in the audit log)";
    MaskedNote => "带 * 的值已脱敏。", "Values with * are masked.";
    // Admin.
    AddUser => "新增用户", "Add a user";
    Institution => "所属机构", "Institution";
    Jurisdiction => "管辖区域", "Jurisdiction";
    InstitutionHint => "银行、运营商人员必填（机构代码）", "Required for bank and carrier staff (institution code)";
    JurisdictionHint => "派出所、社区人员必填（区划代码）", "Required for station and community staff (area code)";
    PasswordHint => "至少 12 位", "At least 12 characters";
    Status => "状态", "Status";
    Active => "启用", "Active";
    Disabled => "已停用", "Disabled";
    Disable => "停用", "Disable";
    Enable => "启用", "Enable";
    Created => "创建时间", "Created";
    Actions => "操作", "Actions";
    UserAdded => "已新增用户 {}。", "User {} added.";
    UserUpdated => "已更新用户 {}。", "User {} updated.";
    AddKey => "新增接口密钥", "Add an API key";
    KeyLabel => "用途说明", "Label";
    KeyId => "编号", "Id";
    Revoke => "吊销", "Revoke";
    Revoked => "已吊销", "Revoked";
    NewKeyOnce => "新密钥如下，仅显示这一次，请立即交付对方系统保存：", "The new key, shown this once only; hand it to the institution's system now:";
    KeyRevoked => "密钥 {} 已吊销。", "Key {} revoked.";
    // Audit.
    AuditLead => "所有人员查询、状态变更与命令行操作，按时间倒序。", "Every look-up, change and CLI run, newest first.";
    Actor => "操作人", "Actor";
    Action => "动作", "Action";
    ActionPrefix => "动作（前缀）", "Action (prefix)";
    From => "起始日期", "From";
    To => "截止日期", "To";
    Detail => "详情", "Detail";
    At => "时间", "Time";
    VerifyLead => "逐条核对审计日志的哈希链：任何一条被修改或删除，都会在此报告第一处断点。", "Checks the audit log's hash chain: any altered or deleted entry shows here as the first broken link.";
    ChainIntact => "哈希链完整：共核验 {} 条记录。", "The chain is intact: {} entries verified.";
    ChainBroken => "哈希链断裂：第一处断点在记录 #{}。", "The chain is broken: first broken link at entry #{}.";
    FlagsLead => "查询量超出本人基线或同岗中位数、或查询辖区外人员的用户。", "Users whose look-ups exceed their own baseline or their peers', or who looked up people outside their remit.";
    Rule => "规则", "Rule";
    RaisedAt => "预警时间", "Raised";
    ReviewedBy => "复核人", "Reviewed by";
    Review => "标记已复核", "Mark reviewed";
    Unreviewed => "未复核", "Not reviewed";
    FlagReviewed => "预警 #{} 已复核。", "Flag #{} reviewed.";
    // Warnings.
    Warnings => "预警队列", "Warning queue";
    PrecisionPage => "规则与精度", "Rules and precision";
    WarningsLead => "您权限范围内的两卡风险预警，按最新证据排序。对象已脱敏，每次查看均记入审计。", "Two-card risk warnings within your remit, newest evidence first. Entities are masked; every view is audited.";
    Level => "等级", "Level";
    Score => "风险分", "Score";
    Pattern => "风险模式", "Pattern";
    WarnedEntity => "预警对象", "Entity";
    FirstWarned => "首次预警", "First warned";
    UpdatedAt => "最近更新", "Updated";
    AnyValue => "全部", "All";
    WarningsCapped => "仅显示最新 {} 条预警，请用筛选条件缩小范围。", "Only the newest {} warnings are shown; narrow them with the filters.";
    Reasons => "预警理由", "Reasons";
    Contribution => "贡献度", "Contribution";
    Source => "来源", "Source";
    Measure => "建议措施", "Recommended measure";
    Version => "版本", "Version";
    RulesVersion => "规则版本", "Rules version";
    ModelVersion => "模型版本", "Model version";
    OpenProfile => "查看对象档案", "Open the entity's profile";
    Feedback => "反馈核查结果", "Answer this warning";
    FeedbackLead => "请根据核查结果反馈：属实、误报或已采取措施。反馈记入审计，并用于计算规则精度。", "Answer from what you found: confirmed, false alarm, or action taken. Answers are audited and count towards the rules' precision.";
    Verdict => "结论", "Verdict";
    FeedbackNote => "说明（可选）", "Note (optional)";
    FeedbackSubmit => "提交反馈", "Submit the answer";
    FeedbackRecorded => "反馈已记录。", "Your answer is recorded.";
    PrecisionLead => "根据银行、运营商的反馈计算：精度 =（属实 + 已处置）÷ 全部反馈。", "From the banks' and carriers' answers: precision = (confirmed + action taken) ÷ all answers.";
    ByPattern => "按风险模式", "By pattern";
    ByRule => "按规则", "By rule";
    ByInstitution => "按机构", "By institution";
    ColConfirmed => "属实", "Confirmed";
    ColFalseAlarm => "误报", "False alarms";
    ColActionTaken => "已处置", "Action taken";
    Answered => "反馈数", "Answers";
    PrecisionCol => "精度", "Precision";
    WarningsByLevel => "权限范围内的预警数（按等级）。", "Warnings within your remit, by level.";
    NoWarnings => "暂无预警。", "No warnings yet.";
    OpenQueue => "进入预警队列", "Open the warning queue";
    // Governance.
    AppealsPage => "申诉复核", "Appeals";
    AppealsLead => "被采取措施的人员可依法申诉（《反电信网络诈骗法》第三十二条）。以下为待复核的申诉，按递交时间排序；复核通过的措施立即解除并通知银行、运营商。", "People under a measure may appeal (Anti-Telecom-Fraud Law, Art. 32). Appeals awaiting review, oldest first; a measure cleared on review is lifted at once and the bank or carrier told.";
    AppealId => "申诉编号", "Appeal";
    Appellant => "申诉人", "Appellant";
    AppellantHint => "本人或代理人，如：持卡人本人（柜面递交）", "The person or who acts for them, e.g. the card holder at the counter";
    Grounds => "申诉理由", "Grounds";
    FiledAt => "递交时间", "Filed";
    AgeHours => "已等待（小时）", "Waiting (hours)";
    FileAppeal => "登记申诉", "Record an appeal";
    FileAppealLead => "代被采取措施的人员登记申诉。登记后预警转为“申诉中”，由审批人复核。", "Record an appeal on the restricted person's behalf. The warning is then under appeal until an approver reviews it.";
    AppealRecorded => "申诉已登记，等待复核。", "The appeal is recorded and awaits review.";
    DecideAppeal => "复核决定", "Review decision";
    DecideLead => "维持：措施继续有效；解除：措施立即解除，并向机构推送解除通知。须填写理由。", "Uphold: the measure stays. Clear: the measure is lifted at once and the institution told. Give your reasons.";
    Decision => "决定", "Decision";
    DecisionUphold => "维持措施", "Uphold the measure";
    DecisionClear => "解除措施", "Clear: lift the measure";
    DecisionReason => "复核理由", "Reasons";
    DecidedBy => "复核人", "Decided by";
    AppealDecided => "复核决定已记录。", "The decision is recorded.";
    AppealsOfWarning => "申诉记录", "Appeals";
    NoAppeals => "暂无申诉。", "No appeals.";
    Timeline => "预警演变", "Timeline";
    TimelineLead => "该预警每个版本的风险分、等级与理由（每次证据变化、撤回或解除各成一版）。", "Each version of this warning: score, level and reasons (a new version whenever the evidence changed, or it was withdrawn or lifted).";
    TopReasons => "主要理由", "Main reasons";
    ThresholdsPage => "阈值决策", "Threshold decisions";
    ThresholdsLead => "预警等级阈值只能通过有记录的决策调整：谁、原值→新值、理由、生效时间与评估。风险研判运行（fanzha risk run）采用已生效的阈值。", "A level's cut-off changes only by a recorded decision: who, old → new, why, from when, and the evaluation. The risk run (fanzha risk run) applies the decisions in effect.";
    CutoffsInEffect => "现行阈值", "Cut-offs in effect";
    FromFiles => "规则文件原值", "In the rule files";
    RecordDecision => "记录阈值决策", "Record a threshold decision";
    NewThreshold => "新阈值", "New cut-off";
    OldThreshold => "原阈值", "Old cut-off";
    EffectiveAt => "生效时间", "Effective";
    EffectiveHint => "RFC 3339，如 2026-03-20T00:00:00+08:00；留空为立即生效", "RFC 3339, e.g. 2026-03-20T00:00:00+08:00; blank: now";
    Evaluation => "新阈值下的评估（JSON，可选）", "Evaluation at the new cut-off (JSON, optional)";
    PrecisionAtNew => "新阈值下精度（反馈数）", "Precision at the new cut-off (answers)";
    InEffect => "已生效", "In effect";
    Scheduled => "待生效", "Scheduled";
    DecisionRecorded => "阈值决策已记录。", "The decision is recorded.";
    DecisionHistory => "决策记录", "Decisions";
    RulesPage => "规则库", "Rule set";
    RulesLead => "当前生效的规则集：每条规则的表达式、说明与反馈精度；每个风险模式的权重、阈值与建议措施。", "The active rule set: each rule's expression, texts and precision from answers; each pattern's weights, cut-offs and measure.";
    Expression => "表达式", "Expression";
    File => "文件", "File";
    RuleWeights => "规则权重", "Rule weights";
    Red => "红", "Red";
    Orange => "橙", "Orange";
    Yellow => "黄", "Yellow";
    ModelsPage => "模型卡", "Model cards";
    ModelsLead => "已训练的模型：训练数据、在留出样本和其他模拟剖面上的评估、特征重要性。", "Trained models: training data, evaluation on held-out entities and other simulator profiles, feature importances.";
    NoModels => "尚无已训练的模型（fanzha risk train）。", "No trained model yet (fanzha risk train).";
    TrainingData => "训练数据", "Training data";
    EvaluationCol => "评估", "Evaluation";
    EvalSource => "评估数据", "Evaluated on";
    HeldOut => "留出样本", "Held-out entities";
    Recall => "召回率", "Recall";
    F1 => "F1", "F1";
    AvgPrecision => "平均精度", "Average precision";
    Threshold => "阈值", "Threshold";
    Targets => "目标数", "Targets";
    Importances => "特征重要性（前 10）", "Feature importances (top 10)";
    Feature => "特征", "Feature";
    GainShare => "增益占比", "Gain share";
    InstitutionsPage => "机构反馈", "Institution feedback";
    InstitutionsLead => "各银行、运营商收到的预警及反馈情况。未反馈的预警无法计入精度。", "Warnings each bank and carrier received, and their answers. Unanswered warnings cannot count towards precision.";
    WarningsCol => "预警数", "Warnings";
    Unanswered => "未反馈", "Unanswered";
    FalseAlarmRate => "误报率", "False-alarm rate";
    ByAgeGroup => "按持有人年龄段", "By the holder's age group";
    AgeGroupNote => "误报是否集中落在老年人或小机构身上：按被预警对象持有人的年龄段（按今年计）与机构统计误报率。", "Whether false alarms fall on the elderly or on small institutions: the false-alarm rate by the warned holder's age group (this year) and by institution.";
    AgeGroup => "年龄段", "Age group";
    Drift => "各模型版本的评分分布", "Score distribution per model version";
    DriftNote => "统计已存储的每个预警版本的风险分（按 10 分一档），按产生它的模型版本分组（无模型版本 = 仅规则）；PSI 为与前一版本相比的群体稳定性指数，<0.1 一般视为稳定，>0.25 视为明显偏移。仅覆盖达到预警等级的对象，并非全体人群的特征漂移：库中未存储逐日特征快照。", "The stored score of every warning version (in tens), by the model version that produced it (none = rules alone); PSI is the population stability index against the version before, under 0.1 usually read as stable, over 0.25 as shifted. It covers only entities that reached a level, not the population's feature drift: the store keeps no daily feature snapshots.";
    ModelVersionCol => "模型版本", "Model version";
    RulesOnly => "仅规则", "Rules only";
    MeanScore => "平均分", "Mean score";
    ComparedWith => "对比版本", "Compared with";
    Psi => "PSI", "PSI";
    Distribution => "分布（0–100）", "Distribution (0–100)";
    UnusedModels => "尚未产生预警的模型：{}", "Models with no warnings yet: {}";
    OperationsPage => "运行状态", "Operations";
    OperationsLead => "全辖预警按状态、推送队列按状态的数量。死信为多次推送失败的预警版本。", "District-wide warnings by status and deliveries by state. Dead letters are warning versions whose delivery failed every attempt.";
    WarningsByStatus => "预警（按状态）", "Warnings by status";
    OutboxByState => "推送队列（按状态）", "Deliveries by state";
    Count => "数量", "Count";
    ResendDead => "重新推送死信", "Re-queue dead letters";
    ResendLead => "把所有死信重新放入推送队列（同一幂等键，机构端不会重复处理）。", "Put every dead letter back in the queue (same idempotency key: an institution applies each version once).";
    Requeued => "已重新排队 {} 条推送。", "{} deliveries re-queued.";
    // Police-bank linkage (issue 6).
    SectionLinkage => "警银联动", "Police-bank linkage";
    IntakePage => "报案受理", "Report intake";
    IntakeLead => "权限范围内的报案，按报案时间倒序。接报后 30 分钟内须完成紧急止付；本页每 30 秒自动刷新。", "Reports within your remit, newest first. The stop payment is due within 30 minutes of the report; this page refreshes every 30 seconds.";
    NoReports => "没有报案。", "No reports.";
    ReportId => "报案编号", "Report";
    ReportedAt => "报案时间", "Reported at";
    Victim => "受害人", "Victim";
    Countdown => "止付倒计时", "Stop countdown";
    MinutesLeft => "剩余 {} 分钟", "{} min left";
    Overdue => "已逾期", "Overdue";
    StopsDrafted => "已起草止付", "Stops drafted";
    PaymentsCol => "付款笔数", "Payments";
    TracePage => "资金流向", "Fund flow";
    TraceTitle => "报案 {} 资金流向", "Fund flow of report {}";
    TraceLead => "从受害人付款起向后追踪资金：仍留存在哪些账户、从哪里流出。账户已脱敏，点击账户查看冻结登记。", "The victim's money followed forward from the payments: where it still rests and where it left. Accounts are masked; open one for its freeze registry.";
    PaidYuan => "被骗金额（元）", "Paid (yuan)";
    HeldYuan => "仍留存（元）", "Still held (yuan)";
    ExitedYuan => "已流出（元）", "Exited (yuan)";
    TracingRule => "追踪规则", "Tracing rule";
    AsOf => "数据截至", "As of";
    FlowChart => "资金流向图", "Fund-flow chart";
    Holdings => "资金留存账户", "Where the money rests";
    NoHoldings => "没有留存的涉案资金。", "None of the money rests anywhere.";
    Exits => "资金流出", "Where the money left";
    NoExits => "没有流出。", "Nothing left the district's accounts.";
    AccountCol => "账户", "Account";
    PathsCol => "路径（交易编号）", "Paths (transactions)";
    ExitKind => "流出方式", "Exit";
    TxId => "交易编号", "Transaction";
    Payee => "收款方", "Payee";
    DraftStopPlan => "生成止付预案并起草", "Draft the stop plan";
    DraftStopLead => "按紧急程度为每个留存账户起草紧急止付指令（草稿）；提交后由审批人审批，再送达银行。", "Drafts a stop order for each account where the money rests, most urgent first; submitted drafts go to an approver, then to the bank.";
    StopPlanTitle => "报案 {} 止付预案", "Stop plan for report {}";
    StopDueBy => "止付时限", "Stop due by";
    Urgency => "紧急程度", "Urgency";
    Basis => "依据", "Basis";
    BalanceYuan => "余额（元）", "Balance (yuan)";
    LastArrival => "最近入账", "Last arrival";
    OutflowsSince => "此后转出笔数", "Outflows since";
    OrderId => "指令号", "Order";
    NotDrafted => "未起草原因", "Not drafted because";
    DraftedN => "已起草 {} 条指令。", "{} orders drafted.";
    SeeInQueue => "在指令队列中查看", "See them in the order queue";
    PlanLines => "预案", "Plan";
    NoPlanLines => "没有可止付或冻结的账户。", "No account to stop or freeze.";
    OrdersPage => "指令队列", "Order queue";
    OrdersLead => "权限范围内的止付、冻结、续冻、解除冻结与返还指令，最新在前。银行只看到本行账户上的指令。", "Stop, freeze, renewal, release and return orders within your remit, newest first. A bank sees only the orders on its own accounts.";
    NoOrders => "没有指令。", "No orders.";
    OrderKindCol => "指令类型", "Kind";
    ApprovalLevel => "审批级别", "Approval level";
    DocumentNo => "文书编号", "Document no.";
    CreatedAt => "起草时间", "Drafted";
    ExpiresAt => "到期时间", "Expires";
    CaseCol => "案件编号", "Case";
    OrderTitle => "指令 {}", "Order {}";
    OrderLead => "指令详情与可办理的步骤。每次查看和办理均记入审计。", "The order's particulars and the steps you may take. Every view and step is audited.";
    Reason => "理由", "Reason";
    CreatedBy => "起草人", "Drafted by";
    ApprovedBy => "审批人", "Approved by";
    ApprovedAt => "审批时间", "Approved";
    BankAnswer => "银行反馈", "Bank's answer";
    HeldByBank => "实际执行（元）", "Held by the bank (yuan)";
    OpenDocument => "查看文书（可打印）", "Open the document (printable)";
    StepsTitle => "办理", "Steps";
    NoSteps => "当前没有您可办理的步骤。", "There is no step for you to take now.";
    StepDone => "已办理：{}。", "Done: {}.";
    AnswerLabel => "执行结果", "Outcome";
    AmountHeld => "实际执行金额（元）", "Amount held (yuan)";
    RefuseReason => "未执行原因", "Why it was not executed";
    BadAmount => "金额格式不正确（以元为单位，例如 50000.00）。", "Not an amount in yuan (for example 50000.00).";
    DraftNo => "草稿（批准后编号）", "Draft (numbered on approval)";
    Item => "项目", "Item";
    Content => "内容", "Content";
    Receipt => "回执", "Receipt";
    NotYet => "尚无", "Not yet";
    PrintHint => "使用浏览器的打印功能打印本页（导航栏不会打印）。", "Print this page with the browser's print command (the navigation is not printed).";
    BackToOrder => "返回指令", "Back to the order";
    RegistryPage => "冻结登记", "Freeze registry";
    RegistryLead => "该账户上各机关的止付、冻结措施：按登记先后以余额满足，其余轮候。", "Every authority's stops and freezes on this account: served from the balance in registration order, the rest queued.";
    ActiveHeldYuan => "措施实际控制（元）", "Held by measures (yuan)";
    TracedYuan => "追踪认定涉案（元）", "Traced (yuan)";
    Measures => "措施", "Measures";
    NoMeasures => "没有措施。", "No measures.";
    MeasureId => "措施编号", "Measure";
    Authority => "机关", "Authority";
    MeasureKind => "措施类型", "Kind";
    RequestedYuan => "申请数额（元）", "Requested (yuan)";
    ActiveYuan => "生效数额（元）", "In force (yuan)";
    QueuedYuan => "轮候数额（元）", "Queued (yuan)";
    Registered => "登记时间", "Registered";
    Since => "生效自", "In force since";
    RenewalDue => "续冻提醒", "Renewal due";
    Undisposed => "久冻不决", "Frozen long without a decision";
    NoUndisposed => "没有久冻不决的措施。", "No measure frozen long without a decision.";
    ScreeningDue => "甄别期限", "Screening due";
    OverFreezing => "超额冻结", "Over-freezing";
    NoOverFreezing => "未超额冻结。", "Not over-frozen.";
    FrozenYuan => "已冻结（元）", "Frozen (yuan)";
    ReleaseYuan => "应解除（元）", "To release (yuan)";
    ReleaseDue => "解除期限", "Release due";
    UnmatchedRows => "未匹配任何措施的外部冻结记录：{} 条。", "{} external freeze rows matched no measure.";
    ReturnsPage => "返还方案", "Return plan";
    ReturnsLead => "冻结资金按被害人分配：原样留存优先，其次按时间匹配，其余按比例，均不超过损失。", "Frozen money split among the victims: intact money first, then matched in time, the rest pro rata, never above a loss.";
    ReturnableYuan => "可返还（元）", "Returnable (yuan)";
    FundsFrom => "资金来源", "Funds from";
    Allocations => "分配", "Allocations";
    NoAllocations => "没有可分配的资金。", "Nothing to allocate.";
    Claims => "被害人资金", "Victims' claims";
    NoClaims => "没有被害人资金流入该账户。", "No victim's money reached this account.";
    EnteredYuan => "流入（元）", "Entered (yuan)";
    IntactYuan => "原样留存（元）", "Intact (yuan)";
    FirstDeposit => "首次入账", "First deposit";
    CasesPage => "案件与冻结", "Cases and freezes";
    CasesLead => "立案后可对案件所涉报案的留存资金生成冻结预案并起草冻结指令。", "Once a case is filed, draft the freezes of the money its reports left behind.";
    NoCases => "没有案件。", "No cases.";
    FileCase => "立案", "File a case";
    CaseId => "案件编号", "Case";
    FilingNo => "立案决定书编号", "Filing decision no.";
    TakeReport => "受理报案", "Take a report";
    Finding => "甄别结论", "Finding";
    TakeReportHint => "核对受害人证件与被骗支付的交易编号；提交后立即追踪资金并（勾选时）起草紧急止付。", "Check the victim's identity and the transaction ids of the payments; on submitting, the money is traced and (when ticked) the stop payments drafted at once.";
    DraftStopsNow => "同时起草紧急止付", "Draft the stop payments now";
    IdKind => "证件类型", "Identity document";
    VictimId => "受害人证件号码", "Victim's identity number";
    LossYuan => "损失金额（元）", "Loss (yuan)";
    ReportChannel => "报案渠道", "Reported via";
    CommunityCode => "社区代码", "Community code";
    Description => "简要案情", "What happened";
    PaymentsTx => "被骗支付的交易编号（逗号分隔）", "Payments' transaction ids (comma-separated)";
    ReportsComma => "报案编号（以逗号分隔）", "Reports (comma-separated)";
    MajorCase => "重大案件", "Major case";
    CaseFiledAt => "立案时间", "Filed";
    FiledBy => "立案人", "Filed by";
    CaseFiled => "已立案：{}。", "Case {} filed.";
    DraftFreezePlan => "生成冻结预案并起草", "Draft the freeze plan";
    FreezePlanTitle => "案件 {} 冻结预案", "Freeze plan for case {}";
    OutsideAccounts => "辖区外账户（报上级中心协调）", "Outside accounts (passed to the higher-level centre)";
    NoticeDue => "须通报：{} 个账户，共 {} 元，期限 {}", "To notify: {} accounts, {} yuan in all, by {}";
    Untraced => "未能追踪的报案：{}", "Reports that could not be traced: {}";
    Yes => "是", "Yes";
    No => "否", "No";
    DuePage => "到期提醒", "Deadlines";
    DueLead => "10 天内到期的止付、冻结、续冻与甄别事项（含已逾期）。", "Stops, freezes, renewals and screenings due within 10 days (and those overdue).";
    NoDue => "10 天内没有到期事项。", "Nothing due within 10 days.";
    DueAt => "期限", "Due";
    DueWhat => "事项", "What";
    // Errors.
    ErrorTitle => "出错了", "Something went wrong";
    ForbiddenTitle => "无权访问", "Access denied";
    NotFoundTitle => "未找到", "Not found";
    Forbidden => "当前角色无权访问此页面或数据。", "Your role may not open this page or these data.";
    NotFound => "页面或对象不存在，或不在您的权限范围内。", "No such page or entity, or it is outside your remit.";
    BadRequest => "请求有误。", "The request is not valid.";
    HandleExpired => "链接无效或已过期（服务重启后链接失效），请重新检索。", "This link is not valid or has expired (links end when the server restarts); search again.";
    CsrfFailed => "表单已过期或来源不明，请刷新页面后重试。", "The form has expired or did not come from this site; reload the page and try again.";
    ServerError => "服务器暂时无法完成请求，请稍后再试。", "The server could not complete the request; try again later.";
    StoreDown => "数据库暂不可用，请稍后再试。", "The database is unavailable; try again later.";
    YourPages => "您可以使用：", "Pages you can use:";
}

/// A data word (attribute key, relation, event kind, role, typology, audit action, entity
/// kind, flag rule) in `lang`; unknown keys are shown as they are.
pub fn term(lang: Lang, key: &str) -> Cow<'_, str> {
    match TERMS.binary_search_by(|(k, _, _)| (*k).cmp(key)) {
        Ok(i) => Cow::Borrowed(match lang {
            Lang::Zh => TERMS[i].1,
            Lang::En => TERMS[i].2,
        }),
        Err(_) => Cow::Borrowed(key),
    }
}

/// Sorted by key (a test checks), for the binary search; one entry a line.
#[rustfmt::skip]
const TERMS: &[
(&str, &str, &str)] = &[
    ("25_39", "25–39 岁", "25–39"),
    ("40_59", "40–59 岁", "40–59"),
    ("60_plus", "60 岁及以上", "60 and over"),
    ("I", "Ⅰ类户", "Class I"),
    ("II", "Ⅱ类户", "Class II"),
    ("III", "Ⅲ类户", "Class III"),
    ("account", "银行账户", "Account"),
    ("account_id", "账号", "Account number"),
    ("action_taken", "已处置", "Action taken"),
    ("activated", "开卡", "Activated"),
    ("activated_at", "开卡时间", "Activated"),
    ("active", "正常", "Active"),
    ("address", "住址", "Address"),
    ("admin", "系统管理员", "Administrator"),
    ("admin.key.add", "新增接口密钥", "API key added"),
    ("admin.key.revoke", "吊销接口密钥", "API key revoked"),
    ("admin.user.add", "新增用户", "User added"),
    ("admin.user.disable", "停用用户", "User disabled"),
    ("admin.user.enable", "启用用户", "User enabled"),
    ("ai_face_voice", "AI换脸/换声", "AI face/voice"),
    ("analyst", "研判民警", "Analyst"),
    ("api.login", "接口登录", "API login"),
    ("api.login.failed", "接口登录失败", "API login failed"),
    ("api.logout", "接口退出", "API logout"),
    ("api.person.view", "接口查询人员", "API person look-up"),
    ("app_event", "App 事件", "App event"),
    ("appeal.decision", "申诉复核决定", "Appeal decided"),
    ("appealed", "申诉中", "Under appeal"),
    ("appeals.list", "查看申诉队列", "Appeals queue view"),
    ("approver", "审批人", "Approver"),
    ("audit.flag.review", "复核内鬼预警", "Insider flag reviewed"),
    ("auditor", "审计员", "Auditor"),
    ("balance", "账户余额", "Account balance"),
    ("bank_code", "开户行", "Bank"),
    ("bank_operator", "银行风控人员", "Bank operator"),
    ("birth_date", "出生日期", "Birth date"),
    ("call_in", "来电", "Call received"),
    ("call_out", "去电", "Call made"),
    ("called", "呼出至", "Called"),
    ("called_by", "来电自", "Called by"),
    ("carrier", "运营商", "Carrier"),
    ("carrier_operator", "运营商风控人员", "Carrier operator"),
    ("case", "案件", "Case"),
    ("case.file", "立案", "Case filed"),
    ("case.freeze", "冻结预案", "Freeze plan"),
    ("cash", "取现", "Cash"),
    ("class", "账户类别", "Class"),
    ("cli.audit.insiders", "命令行：内鬼检测", "CLI: insider detection"),
    ("cli.audit.list", "命令行：审计列表", "CLI: audit list"),
    ("cli.audit.verify", "命令行：审计核验", "CLI: audit verification"),
    ("cli.db.backup", "命令行：数据库备份", "CLI: database backup"),
    ("cli.db.migrate", "命令行：数据库迁移", "CLI: database migration"),
    ("cli.db.restore", "命令行：数据库恢复", "CLI: database restore"),
    ("cli.db.stats", "命令行：数据统计", "CLI: database statistics"),
    ("cli.deliver.resend", "命令行：重新推送死信", "CLI: dead letters re-queued"),
    ("cli.demo", "命令行：演示数据", "CLI: demo"),
    ("cli.demo.accounts", "命令行：演示账号", "CLI: demo accounts"),
    ("cli.ingest", "命令行：数据导入", "CLI: ingest"),
    ("cli.key.add", "命令行：新增接口密钥", "CLI: API key added"),
    ("cli.key.list", "命令行：接口密钥列表", "CLI: API key list"),
    ("cli.key.revoke", "命令行：吊销接口密钥", "CLI: API key revoked"),
    ("cli.quarantine.list", "命令行：隔离记录列表", "CLI: quarantine list"),
    ("cli.quarantine.show", "命令行：隔离记录详情", "CLI: quarantine entry"),
    ("cli.serve", "命令行：启动服务", "CLI: server started"),
    ("cli.user.add", "命令行：新增用户", "CLI: user added"),
    ("closed", "已销户", "Closed"),
    ("commander", "指挥长", "Commander"),
    ("community_code", "所属社区", "Community"),
    ("community_worker", "社区网格员", "Community worker"),
    ("company", "单位", "Company"),
    ("confirmed", "属实", "Confirmed"),
    ("console.login", "控制台登录", "Console login"),
    ("console.login.failed", "控制台登录失败", "Console login failed"),
    ("console.logout", "控制台退出", "Console logout"),
    ("corporate", "对公", "Corporate"),
    ("county", "县级", "County"),
    ("crypto", "虚拟货币", "Crypto"),
    ("deactivated", "销号", "Deactivated"),
    ("deactivated_at", "销号时间", "Deactivated"),
    ("dead", "死信", "Dead letter"),
    ("delay_settlement", "延迟结算", "Delay settlement"),
    ("delivered", "已送达", "Delivered"),
    ("device", "设备", "Device"),
    ("device_id", "设备号", "Device id"),
    ("dormant", "久悬", "Dormant"),
    ("elderly", "老年人", "Elderly"),
    ("fake_credit_repair", "虚假征信", "Fake credit repair"),
    ("fake_customer_service", "冒充电商物流客服", "Fake customer service"),
    ("fake_investment", "虚假投资理财", "Fake investment"),
    ("fake_loan", "虚假贷款", "Fake loan"),
    ("false_alarm", "误报", "False alarm"),
    ("feature", "特征", "Feature"),
    ("fifo", "先进先出", "FIFO"),
    ("finance", "金融从业人员", "Finance staff"),
    ("foreign_permanent", "外国人永久居留证", "Foreign permanent residence"),
    ("freeze", "冻结", "Freeze"),
    ("freeze_lapses", "冻结到期", "Freeze lapses"),
    ("freezes.due", "查看到期提醒", "Deadlines view"),
    ("freezes.registry", "查看冻结登记", "Freeze registry view"),
    ("hearing_impaired", "听障人士", "Hearing impaired"),
    ("held_by", "持有人", "Held by"),
    ("hmt_permit", "港澳台居民证件", "HK/Macau/Taiwan permit"),
    ("holder", "持有人", "Holder"),
    ("holder_id", "持有人证件号", "Holder id"),
    ("holds_account", "持有账户", "Holds account"),
    ("holds_sim", "持有号码", "Holds SIM"),
    ("id", "证件号", "ID number"),
    ("id_fishing", "频繁查询不存在的号码", "Look-ups of ids that do not exist"),
    ("id_kind", "证件类型", "ID kind"),
    ("id_number", "证件号码", "ID number"),
    ("imei", "IMEI", "IMEI"),
    ("impersonating_officials", "冒充公检法", "Impersonating officials"),
    ("insider.flag", "内鬼预警", "Insider flag raised"),
    ("intact", "原样留存", "Intact"),
    ("intake.list", "查看报案受理", "Intake queue view"),
    ("iot", "物联网卡", "IoT"),
    ("ip", "IP 地址", "IP address"),
    ("kind", "类型", "Kind"),
    ("lead", "线索", "Lead"),
    ("libr", "最低中间余额", "Lowest intermediate balance"),
    ("lifo", "后进先出", "LIFO"),
    ("lifted", "已解除", "Lifted"),
    ("limit_non_counter", "限制非柜面业务", "Limit non-counter services"),
    ("lives_alone", "独居", "Lives alone"),
    ("logged_in", "登录使用", "Logged in"),
    ("login", "登录", "Log-in"),
    ("lookup.account", "查看账户档案", "Account profile view"),
    ("lookup.device", "查看设备档案", "Device profile view"),
    ("lookup.order", "查看指令", "Order view"),
    ("lookup.person", "查看人员档案", "Person profile view"),
    ("lookup.sim", "查看号码档案", "SIM profile view"),
    ("lookup.warning", "查看风险预警", "Warning view"),
    ("medical", "医务人员", "Medical staff"),
    ("merchant", "商户消费", "Merchant"),
    ("model", "模型", "Model"),
    ("moving", "资金仍在流动", "Still moving"),
    ("msisdn", "手机号", "Phone number"),
    ("mule", "过账卡", "Money mule"),
    ("name", "姓名", "Name"),
    ("number", "电话号码", "Number"),
    ("open", "待处置", "Open"),
    ("opened", "开户", "Opened"),
    ("opened_at", "开户时间", "Opened"),
    ("orange", "橙色", "Orange"),
    ("order.document", "查看指令文书", "Order document view"),
    ("order.draft", "起草指令", "Order drafted"),
    ("order.step", "办理指令", "Order step"),
    ("order_brushing", "刷单返利", "Order brushing"),
    ("order_status.approved", "已批准", "Approved"),
    ("order_status.draft", "草稿", "Draft"),
    ("order_status.executed", "已执行", "Executed"),
    ("order_status.expired", "已到期", "Expired"),
    ("order_status.insufficient", "余额不足", "Insufficient balance"),
    ("order_status.lifted", "已解除", "Lifted"),
    ("order_status.pending", "待审批", "Awaiting approval"),
    ("order_status.refused", "未执行", "Refused"),
    ("order_status.sent", "已送达银行", "Sent to the bank"),
    ("order_status.withdrawn", "已撤回", "Withdrawn"),
    ("orders.list", "查看指令队列", "Order queue view"),
    ("other", "其他", "Other"),
    ("out_of_scope", "查询辖区外人员", "Out-of-remit look-ups"),
    ("outbox.resend_dead", "重新推送死信", "Dead letters re-queued"),
    ("outside", "转出辖区", "Outside the district"),
    ("own_baseline", "超出本人基线", "Above own baseline"),
    ("paid", "转出至", "Paid"),
    ("paid_by", "转入自", "Paid by"),
    ("passport", "护照", "Passport"),
    ("payment", "支付账户", "Payment account"),
    ("peer_volume", "超出同岗中位数", "Above peers' volume"),
    ("pending", "待推送", "Pending"),
    ("person", "人员", "Person"),
    ("personal", "个人", "Personal"),
    ("phone", "手机号", "Phone"),
    ("poison", "全额污染", "Poison"),
    ("prefecture", "地市级", "Prefecture"),
    ("pro-rata", "按比例", "Pro rata"),
    ("pro_rata", "按比例", "Pro rata"),
    ("public_servant", "公职人员", "Public servant"),
    ("publicity", "宣传组织人员", "Publicity"),
    ("recent", "新近入账", "Recent"),
    ("red", "红色", "Red"),
    ("related", "与案件相关", "Related to the case"),
    ("release", "解除冻结", "Release"),
    ("release_due", "应解除冻结", "Release due"),
    ("renew", "继续冻结", "Renewal"),
    ("renewal_due", "应办理续冻", "Renewal due"),
    ("report", "报警", "Report"),
    ("report.take", "受理报案", "Report taken"),
    ("reported", "报警", "Reported"),
    ("residence_permit", "居住证", "Residence permit"),
    ("resident", "居民身份证", "Resident ID"),
    ("resident_id", "居民身份证", "Resident ID"),
    ("resting", "静置", "Resting"),
    ("restricted", "受限", "Restricted"),
    ("return", "资金返还", "Return"),
    ("return_receipt_due", "应取得返还回执", "Return receipt due"),
    ("returns.decide", "返还决定", "Return decided"),
    ("returns.open", "开启返还", "Return round opened"),
    ("returns.plan", "查看返还方案", "Return plan view"),
    ("returns.rounds", "查看返还轮次", "Return rounds view"),
    ("reveal.account", "查看账户完整信息", "Account field revealed"),
    ("reveal.device", "查看设备完整信息", "Device field revealed"),
    ("reveal.person", "查看人员完整信息", "Person field revealed"),
    ("reveal.sim", "查看号码完整信息", "SIM field revealed"),
    ("reverify_identity", "重新核验身份", "Re-verify identity"),
    ("romance", "网络交友婚恋", "Romance"),
    ("rule", "规则", "Rule"),
    ("runner", "跑分", "Payment runner"),
    ("scam_caller_sim", "涉诈呼叫卡", "Scam-caller SIM"),
    ("screening_due", "应甄别处置", "Screening due"),
    ("search", "综合检索", "Search"),
    ("sim", "手机卡", "SIM"),
    ("sim_box", "猫池", "SIM box"),
    ("sms_in", "收短信", "SMS received"),
    ("sms_out", "发短信", "SMS sent"),
    ("sold_card", "出租出售卡", "Sold or rented card"),
    ("station_leader", "派出所所领导", "Station leader"),
    ("station_officer", "派出所民警", "Station officer"),
    ("status", "状态", "Status"),
    ("step.answer", "反馈执行结果", "Answer"),
    ("step.approve", "批准", "Approve"),
    ("step.dispose", "甄别处置", "Record the screening"),
    ("step.lift", "解除", "Lift"),
    ("step.send", "送达银行", "Send to the bank"),
    ("step.submit", "提交审批", "Submit for approval"),
    ("step.withdraw", "撤回", "Withdraw"),
    ("stop", "止付", "Stop payment"),
    ("stop.plan", "止付预案", "Stop plan"),
    ("stop_lapses", "止付到期", "Stop lapses"),
    ("student", "学生", "Student"),
    ("suspend", "暂停业务", "Suspend"),
    ("tags", "标签", "Tags"),
    ("threshold.decision", "阈值决策", "Threshold decision"),
    ("time_matched", "时间匹配", "Matched in time"),
    ("trace.report", "资金追踪", "Report traced"),
    ("traced_holding", "追踪认定金额", "Traced holding"),
    ("transfer_in", "转入", "Transfer in"),
    ("transfer_out", "转出", "Transfer out"),
    ("under_25", "25 岁以下", "Under 25"),
    ("unknown", "未知", "Unknown"),
    ("unrelated", "与案件无关", "Unrelated to the case"),
    ("upheld", "维持", "Upheld"),
    ("used_by", "使用者", "Used by"),
    ("used_device", "使用设备", "Used device"),
    ("video", "视频", "Video"),
    ("voice", "语音", "Voice"),
    ("warning.appeal", "登记申诉", "Appeal recorded"),
    ("warning.feedback", "反馈风险预警", "Warning answered"),
    ("warnings.list", "查看预警队列", "Warning queue view"),
    ("whole_account", "整户", "Whole account"),
    ("withdrawn", "已撤回", "Withdrawn"),
    ("yellow", "黄色", "Yellow"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_sorted_and_unique() {
        for w in TERMS.windows(2) {
            assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
        }
    }

    #[test]
    fn every_documented_store_word_is_translated() {
        // The keys `fanzha_store`'s view types document, every role and every typology.
        let mut keys: Vec<&str> = vec![
            "name",
            "community_code",
            "bank_code",
            "holds_account",
            "holds_sim",
            "held_by",
            "used_device",
            "used_by",
            "paid",
            "paid_by",
            "called",
            "called_by",
            "transfer_out",
            "transfer_in",
            "call_out",
            "call_in",
            "sms_out",
            "sms_in",
            "login",
            "report",
            "lookup.person",
            "search",
            "reveal.person",
            "admin.user.add",
            "admin.key.revoke",
            "audit.flag.review",
            "opened",
            "activated",
            "deactivated",
            "peer_volume",
            "own_baseline",
            "out_of_scope",
        ];
        keys.extend(fanzha_core::vocab::Role::WORDS);
        keys.extend(fanzha_core::vocab::Typology::WORDS);
        keys.extend(fanzha_store::EntityKind::ALL.map(|k| k.as_str()));
        keys.extend(fanzha_store::RiskEntity::WORDS);
        keys.extend(fanzha_store::WarningLevel::WORDS);
        keys.extend(fanzha_store::WarningStatus::WORDS);
        keys.extend(fanzha_store::Measure::WORDS);
        keys.extend(fanzha_store::ReasonSource::WORDS);
        keys.extend([
            "mule",
            "runner",
            "sold_card",
            "scam_caller_sim",
            "sim_box",
            "lookup.warning",
            "warnings.list",
            "warning.feedback",
        ]);
        for key in keys {
            assert!(
                TERMS.binary_search_by(|(k, _, _)| (*k).cmp(key)).is_ok(),
                "{key} has no translation"
            );
            assert_ne!(term(Lang::Zh, key), term(Lang::En, key), "{key}");
        }
    }

    #[test]
    fn labels_differ_between_languages_and_placeholders_match() {
        for &m in M::ALL {
            let (zh, en) = (m.text(Lang::Zh), m.text(Lang::En));
            assert!(!zh.is_empty() && !en.is_empty(), "{m:?}");
            assert_eq!(zh.matches("{}").count(), en.matches("{}").count(), "{m:?}");
        }
        assert_eq!(Lang::En.fill(M::RowsTotal, 3), "3 rows");
        assert_eq!(Lang::Zh.fill(M::RowsTotal, 3), "共 3 条");
        assert_eq!(Lang::En.fill_all(M::PageOf, &[&2, &5]), "Page 2 of 5");
    }
}
