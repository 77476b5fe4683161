//! The compact records the day generators produce and the writers format: a few machine words
//! each, with every identifier an index into the [`World`](crate::world::World), so a day of a
//! district (about a million records) is sorted and formatted without a heap allocation per
//! record.

/// "No value": an empty optional field, or "not labelled".
pub const NONE: u32 = u32::MAX;

/// A far-party number in a call or SMS: a SIM of the world, or (with this bit) an index into
/// the world's external numbers.
pub const EXTERNAL: u32 = 1 << 31;

/// A login subject: an account, or (with this bit) a SIM.
pub const SUBJECT_SIM: u32 = 1 << 31;

/// A transaction's channel (DATA.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Channel {
    Transfer,
    OnlinePay,
    Pos,
    AtmWithdrawal,
    CashDeposit,
    CryptoExchange,
    Merchant,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Transfer => "transfer",
            Channel::OnlinePay => "online_pay",
            Channel::Pos => "pos",
            Channel::AtmWithdrawal => "atm_withdrawal",
            Channel::CashDeposit => "cash_deposit",
            Channel::CryptoExchange => "crypto_exchange",
            Channel::Merchant => "merchant",
        }
    }

    /// Money that leaves the traced ledger: cash out, a virtual-currency desk, goods.
    pub fn is_exit(self) -> bool {
        matches!(
            self,
            Channel::AtmWithdrawal | Channel::CryptoExchange | Channel::Merchant
        )
    }
}

/// Memo texts; index 0 is an empty memo.
pub const MEMOS: &[&str] = &[
    "",
    "红包",
    "工资",
    "养老金",
    "水电费",
    "话费充值",
    "转账",
    "货款",
    "团购",
    "跑腿费",
    "还款",
    "生活费",
    "投资款",
    "保证金",
    "解冻费",
    "手续费",
    "充值",
    "刷单任务",
    "安全账户",
    "购物",
    "退款",
];

pub mod memo {
    pub const NONE: u8 = 0;
    pub const RED_PACKET: u8 = 1;
    pub const SALARY: u8 = 2;
    pub const PENSION: u8 = 3;
    pub const UTILITY: u8 = 4;
    pub const TOP_UP: u8 = 5;
    pub const TRANSFER: u8 = 6;
    pub const GOODS: u8 = 7;
    pub const GROUP_BUY: u8 = 8;
    pub const ERRAND: u8 = 9;
    pub const REPAY: u8 = 10;
    pub const LIVING: u8 = 11;
    pub const INVEST: u8 = 12;
    pub const DEPOSIT: u8 = 13;
    pub const UNFREEZE: u8 = 14;
    pub const FEE: u8 = 15;
    pub const RECHARGE: u8 = 16;
    pub const TASK: u8 = 17;
    pub const SAFE_ACCOUNT: u8 = 18;
    pub const SHOPPING: u8 = 19;
    pub const REFUND: u8 = 20;
}

#[derive(Debug, Clone, Copy)]
pub struct Tx {
    pub ts: i64,
    pub from: u32,
    pub to: u32,
    pub amount: i64,
    pub channel: Channel,
    pub memo: u8,
    pub device: u32,
    pub ip: u32,
    pub cell: u32,
    /// A victim's payment: the index of the payment in the fraud plan; otherwise [`NONE`].
    pub tag: u32,
}

impl Tx {
    /// A transfer with no device, IP or cell behind it (salaries, pensions, bank-side
    /// movements) and not a victim's payment.
    pub fn plain(ts: i64, from: u32, to: u32, amount: i64, channel: Channel, memo: u8) -> Tx {
        Tx {
            ts,
            from,
            to,
            amount,
            channel,
            memo,
            device: NONE,
            ip: 0,
            cell: NONE,
            tag: NONE,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub ts: i64,
    pub caller: u32,
    pub callee: u32,
    pub duration: u32,
    pub video: bool,
    pub cell: u32,
    /// The caller's device (its IMEI), or [`NONE`].
    pub device: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct Sms {
    pub ts: i64,
    pub sender: u32,
    pub receiver: u32,
    /// Index into [`SMS_TEXTS`]; 0 is no text.
    pub text: u16,
    pub cell: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct Login {
    pub ts: i64,
    pub subject: u32,
    pub device: u32,
    pub ip: u32,
    pub cell: u32,
}

#[derive(Debug, Clone, Copy)]
pub struct AppEvent {
    pub ts: i64,
    pub sim: u32,
    /// 0 install, 1 uninstall, 2 open.
    pub event: u8,
    /// Index into [`APPS`].
    pub app: u16,
}

/// (name, risk label). The anti-fraud app is index 0; fraud apps carry a label only when
/// already known.
pub const APPS: &[(&str, &str)] = &[
    ("国家反诈中心", "anti_fraud"),
    ("微信", ""),
    ("支付宝", ""),
    ("抖音", ""),
    ("美团", ""),
    ("淘宝", ""),
    ("拼多多", ""),
    ("手机银行", ""),
    ("高德地图", ""),
    ("快手", ""),
    ("财富通达", ""),
    ("聚利宝", "known_fraud_app"),
    ("秒下款", ""),
    ("蜜语交友", ""),
    ("云会议Pro", ""),
    ("任务赚", "known_fraud_app"),
    ("VPN加速器", ""),
];
pub const APP_ANTI_FRAUD: u16 = 0;
/// Ordinary apps residents open.
pub const ORDINARY_APPS: std::ops::Range<u16> = 1..10;
pub const APP_FRAUD_INVEST: u16 = 10;
pub const APP_FRAUD_INVEST_KNOWN: u16 = 11;
pub const APP_FRAUD_LOAN: u16 = 12;
pub const APP_FRAUD_ROMANCE: u16 = 13;
pub const APP_FRAUD_MEETING: u16 = 14;
pub const APP_FRAUD_TASK: u16 = 15;
pub const APP_VPN: u16 = 16;

/// SMS texts; index 0 is no text. Commas are full-width so CSV needs no quoting.
pub const SMS_TEXTS: &[&str] = &[
    "",
    "晚上回来吃饭吗",
    "收到，谢谢",
    "明天几点见",
    "【银行】您尾号账户发生一笔交易，如非本人操作请致电客服。",
    "【验证码】您的验证码已发送，5分钟内有效，请勿泄露。",
    "【快递】您的包裹已到驿站，请凭取件码取件。",
    "【社区】本周六上午社区义诊，欢迎参加。",
    "【反诈】公检法不会电话办案，不存在安全账户，请勿转账。",
    "兼职刷单，日结佣金，加QQ详聊",
    "您的快递丢失，理赔请联系客服",
    "您的征信有误，需立即处理，否则影响贷款",
    "无抵押低息贷款，秒到账，点击链接申请",
    "内部消息，稳赚不赔的投资机会，加群了解",
    "您涉嫌一起洗钱案件，请配合调查",
    "【团购】今日团购已截单，明早到货",
    "好的，我马上转你",
];
pub const TEXT_SERVICE: std::ops::Range<u16> = 4..8;
pub const TEXT_PERSONAL: std::ops::Range<u16> = 1..4;
pub const TEXT_ANTI_FRAUD_ALERT: u16 = 8;
pub const TEXT_GROUP_BUY: u16 = 15;
pub const TEXT_OK: u16 = 16;

/// Everything one day holds, before sorting and formatting.
#[derive(Default)]
pub struct Day {
    pub txs: Vec<Tx>,
    pub calls: Vec<Call>,
    pub sms: Vec<Sms>,
    pub logins: Vec<Login>,
    pub apps: Vec<AppEvent>,
}

impl Day {
    /// Sorts every kind by time. The sort is stable, so records of one second keep the order
    /// they were generated in, which is itself deterministic.
    pub fn sort(&mut self) {
        self.txs.sort_by_key(|r| r.ts);
        self.calls.sort_by_key(|r| r.ts);
        self.sms.sort_by_key(|r| r.ts);
        self.logins.sort_by_key(|r| r.ts);
        self.apps.sort_by_key(|r| r.ts);
    }

    pub fn append(&mut self, other: &mut Day) {
        self.txs.append(&mut other.txs);
        self.calls.append(&mut other.calls);
        self.sms.append(&mut other.sms);
        self.logins.append(&mut other.logins);
        self.apps.append(&mut other.apps);
    }
}
