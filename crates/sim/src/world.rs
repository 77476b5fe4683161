//! The district as it stands on the first day: the jurisdiction tree with its police stations,
//! places, institutions, residents (age structure, occupations, tags, a few foreigners),
//! companies, phones across the carriers, accounts across the banks, devices, the social
//! graph, and the parties outside the district that money and calls reach.
//!
//! Everything here is drawn from the `World` stream in one fixed order, so the same seed gives
//! the same district. The fraud plan later adds the ring's cards, SIMs and devices.

use std::collections::HashMap;

use crate::clock::{self, DAY, START};
use crate::config::Config;
use crate::event::{EXTERNAL, NONE};
use crate::ident;
use crate::rng::{Purpose, Stream};

/// Tags on a person (`persons.tags`), as bits.
pub mod tag {
    pub const ELDERLY: u32 = 1 << 0;
    pub const STUDENT: u32 = 1 << 1;
    pub const PUBLIC_SERVANT: u32 = 1 << 2;
    pub const MEDICAL: u32 = 1 << 3;
    pub const FINANCE: u32 = 1 << 4;
    pub const HEARING_IMPAIRED: u32 = 1 << 5;
    pub const LIVES_ALONE: u32 = 1 << 6;
    pub const DELIVERY_RIDER: u32 = 1 << 7;
    pub const GROUP_BUY_LEADER: u32 = 1 << 8;
    pub const SMALL_TRADER: u32 = 1 << 9;
    pub const TEACHER: u32 = 1 << 10;
    pub const RETIRED: u32 = 1 << 11;
    pub const UNEMPLOYED: u32 = 1 << 12;

    pub const NAMES: [(u32, &str); 13] = [
        (ELDERLY, "elderly"),
        (STUDENT, "student"),
        (PUBLIC_SERVANT, "public_servant"),
        (MEDICAL, "medical"),
        (FINANCE, "finance"),
        (HEARING_IMPAIRED, "hearing_impaired"),
        (LIVES_ALONE, "lives_alone"),
        (DELIVERY_RIDER, "delivery_rider"),
        (GROUP_BUY_LEADER, "group_buy_leader"),
        (SMALL_TRADER, "small_trader"),
        (TEACHER, "teacher"),
        (RETIRED, "retired"),
        (UNEMPLOYED, "unemployed"),
    ];
}

pub struct Town {
    pub code: String,
    pub name: String,
    pub station: String,
}

pub struct Community {
    pub code: String,
    pub name: String,
    pub town: u32,
    pub station: String,
    pub cells: Vec<u32>,
    pub atms: Vec<u32>,
    /// Broadband addresses of the community's homes: `base | (0..256)`.
    pub ip_base: u32,
}

pub struct Place {
    pub id: String,
    pub kind: &'static str,
    pub community: u32,
    pub name: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
}

pub struct Institution {
    pub code: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    /// Card BIN for banks; account prefix for payment companies.
    pub bin: &'static str,
}

pub const INSTITUTIONS: &[Institution] = &[
    Institution {
        code: "ICBC",
        name: "中国工商银行示范区支行",
        kind: "bank",
        bin: "622202",
    },
    Institution {
        code: "CCB",
        name: "中国建设银行示范区支行",
        kind: "bank",
        bin: "621700",
    },
    Institution {
        code: "ABC",
        name: "中国农业银行示范区支行",
        kind: "bank",
        bin: "622848",
    },
    Institution {
        code: "BOC",
        name: "中国银行示范区支行",
        kind: "bank",
        bin: "621661",
    },
    Institution {
        code: "BOCOM",
        name: "交通银行示范区支行",
        kind: "bank",
        bin: "622260",
    },
    Institution {
        code: "PSBC",
        name: "中国邮政储蓄银行示范区支行",
        kind: "bank",
        bin: "621799",
    },
    Institution {
        code: "CMB",
        name: "招商银行示范区支行",
        kind: "bank",
        bin: "621483",
    },
    Institution {
        code: "RCB",
        name: "示范农村商业银行",
        kind: "bank",
        bin: "621449",
    },
    Institution {
        code: "china_mobile",
        name: "中国移动示范区分公司",
        kind: "carrier",
        bin: "",
    },
    Institution {
        code: "china_unicom",
        name: "中国联通示范区分公司",
        kind: "carrier",
        bin: "",
    },
    Institution {
        code: "china_telecom",
        name: "中国电信示范区分公司",
        kind: "carrier",
        bin: "",
    },
    Institution {
        code: "TENPAY",
        name: "财付通支付科技有限公司",
        kind: "payment",
        bin: "1900",
    },
    Institution {
        code: "ALIPAY",
        name: "支付宝（中国）网络技术有限公司",
        kind: "payment",
        bin: "2088",
    },
    Institution {
        code: "OKX_OTC",
        name: "某数字资产交易平台（场外）",
        kind: "exchange",
        bin: "",
    },
    Institution {
        code: "HB_OTC",
        name: "某虚拟币承兑商",
        kind: "exchange",
        bin: "",
    },
];
pub const BANKS: std::ops::Range<u16> = 0..8;
pub const TENPAY: u16 = 11;
pub const ALIPAY: u16 = 12;
/// Banks that outside cards are drawn from (any bank's BIN).
const OUTSIDE_BINS: &[&str] = &[
    "622202", "621700", "622848", "621661", "622260", "621799", "621483", "622588", "622700",
    "623668",
];

/// The three carriers, their codes and their number blocks.
pub const CARRIERS: [&str; 3] = ["china_mobile", "china_unicom", "china_telecom"];
const CARRIER_SHARE: [f64; 3] = [0.58, 0.2, 0.22];
const PREFIXES: [&[&str]; 3] = [
    &[
        "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182",
        "183", "187", "188", "198",
    ],
    &[
        "130", "131", "132", "155", "156", "166", "175", "176", "185", "186",
    ],
    &[
        "133", "153", "173", "177", "180", "181", "189", "191", "199",
    ],
];

pub struct Person {
    pub id: String,
    pub id_kind: &'static str,
    pub name: String,
    pub community: u32,
    pub address: String,
    /// Age in completed years on the first day; 0 for a company.
    pub age: u8,
    pub tags: u32,
    /// The company that pays the salary (index into `companies`), or [`NONE`].
    pub employer: u32,
    /// Day of the month salary (or pension) arrives.
    pub payday: u8,
    pub device: u32,
    /// SIMs the person uses themselves (the first is the primary number).
    pub sims: Vec<u32>,
    /// Accounts the person uses themselves (the first is the main card).
    pub accounts: Vec<u32>,
    /// A payment-company wallet, or [`NONE`].
    pub wallet: u32,
    pub home_cell: u32,
    pub work_cell: u32,
    /// Index into `households`.
    pub household: u32,
    pub is_company: bool,
    /// Has the anti-fraud app before the window.
    pub anti_fraud_app: bool,
    /// Lookalike behaviour: uses a VPN.
    pub vpn: bool,
}

impl Person {
    pub fn band(&self) -> usize {
        match self.age {
            0..=29 => 0,
            30..=59 => 1,
            _ => 2,
        }
    }

    pub fn has(&self, t: u32) -> bool {
        self.tags & t != 0
    }

    pub fn tags_text(&self) -> String {
        let mut s = String::new();
        for (bit, name) in tag::NAMES {
            if self.tags & bit != 0 {
                if !s.is_empty() {
                    s.push('|');
                }
                s.push_str(name);
            }
        }
        s
    }
}

pub struct Account {
    pub id: String,
    pub bank: u16,
    /// The holder (a person index), or [`NONE`] for an account outside the district.
    pub holder: u32,
    pub opened: i64,
    pub class: &'static str,
    pub status: &'static str,
    /// Written to `accounts` (held in the district); outside accounts appear only in
    /// transactions.
    pub listed: bool,
    /// Opening balance in fen at the first instant (`balances`), 0 for none.
    pub balance: i64,
}

pub struct Sim {
    pub msisdn: String,
    pub carrier: u8,
    pub holder: u32,
    pub activated: i64,
    pub kind: &'static str,
    /// Deactivation time, or `i64::MIN` while active.
    pub deactivated: i64,
}

pub struct Device {
    pub id: String,
    pub imei: String,
}

pub struct Company {
    pub person: u32,
    pub account: u32,
    pub community: u32,
    /// Takes card payments from residents (a shop, a restaurant).
    pub shop: bool,
    pub payday: u8,
}

/// The district and everyone in it.
pub struct World {
    pub district_code: String,
    pub district_name: String,
    pub towns: Vec<Town>,
    pub communities: Vec<Community>,
    pub places: Vec<Place>,
    pub persons: Vec<Person>,
    pub accounts: Vec<Account>,
    pub sims: Vec<Sim>,
    pub devices: Vec<Device>,
    pub companies: Vec<Company>,
    /// Far-party numbers outside the district (relatives elsewhere, services, foreign).
    pub externals: Vec<String>,
    /// Households: members of one home (contacts and family transfers).
    pub households: Vec<Vec<u32>>,
    /// The social graph as compressed rows: contacts of person `p` are
    /// `contacts[offsets[p]..offsets[p + 1]]`.
    pub contact_offsets: Vec<u32>,
    pub contacts: Vec<u32>,
    /// Outside parties: online merchants, utilities, the pension fund, outside employers,
    /// relatives' cards elsewhere (indices into `accounts`).
    pub online_merchants: Vec<u32>,
    pub utilities: Vec<u32>,
    pub pension_fund: u32,
    pub outside_employers: Vec<u32>,
    pub outside_relatives: Vec<u32>,
    pub wholesalers: Vec<u32>,
    /// Service numbers (banks, carriers, 106 gateways), indices into `externals`.
    pub service_numbers: Vec<u32>,
    /// Outside mobile numbers of relatives and friends elsewhere.
    pub outside_mobiles: Vec<u32>,
    /// SMS gateways of the district (corporate IoT SIMs): look-alikes for SIM boxes.
    pub sms_gateways: Vec<u32>,
    /// Residents by look-alike role.
    pub riders: Vec<u32>,
    pub group_buy_leaders: Vec<u32>,
    pub traders: Vec<u32>,
    /// Counters that keep generated numbers unique when the fraud plan adds more.
    card_counter: HashMap<(&'static str, usize), u64>,
    msisdn_counter: HashMap<&'static str, u64>,
    id_counter: HashMap<(String, String), u32>,
    external_counter: u64,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "建", "国", "文", "辉", "玉", "兰", "萍", "宇",
    "浩", "欣", "怡", "晨", "轩", "子", "涵", "思", "雨", "佳", "俊", "博", "婷", "鑫", "海", "德",
    "顺", "志",
];
const FOREIGN_NAMES: &[&str] = &[
    "NGUYEN VAN MINH",
    "JOHN SMITH",
    "KIM MIN JUN",
    "TANAKA HIROSHI",
    "MARIA GARCIA",
    "IVAN PETROV",
    "SOMCHAI SUKSAN",
];
const TOWN_NAMES: &[&str] = &[
    "西溪", "灵隐", "北山", "文新", "翠苑", "古荡", "蒋村", "留下", "转塘", "三墩", "双浦", "之江",
];
const COMMUNITY_NAMES: &[&str] = &[
    "花园",
    "新村",
    "桂苑",
    "金桥",
    "春晖",
    "青竹",
    "嘉绿",
    "望湖",
    "紫荆",
    "丰潭",
    "松木场",
    "西湖苑",
    "德加",
    "益乐",
];
const STREETS: &[&str] = &[
    "文一路",
    "文二路",
    "天目山路",
    "古墩路",
    "莫干山路",
    "教工路",
    "学院路",
    "紫金港路",
    "西溪路",
    "丰潭路",
];
const REGIONS_LOCAL: &[&str] = &["330106", "330105", "330102", "330108"];
const REGIONS_MIGRANT: &[&str] = &[
    "510107", "410105", "500103", "430102", "340104", "362401", "450103", "612401",
];

impl World {
    pub fn generate(cfg: &Config) -> World {
        let mut rng = Stream::new(cfg.seed, Purpose::World, 0);
        let p = &cfg.params;
        let mut w = World {
            district_code: "330199".into(),
            district_name: "示范区".into(),
            towns: Vec::new(),
            communities: Vec::new(),
            places: Vec::new(),
            persons: Vec::new(),
            accounts: Vec::new(),
            sims: Vec::new(),
            devices: Vec::new(),
            companies: Vec::new(),
            externals: Vec::new(),
            households: Vec::new(),
            contact_offsets: Vec::new(),
            contacts: Vec::new(),
            online_merchants: Vec::new(),
            utilities: Vec::new(),
            pension_fund: NONE,
            outside_employers: Vec::new(),
            outside_relatives: Vec::new(),
            wholesalers: Vec::new(),
            service_numbers: Vec::new(),
            outside_mobiles: Vec::new(),
            sms_gateways: Vec::new(),
            riders: Vec::new(),
            group_buy_leaders: Vec::new(),
            traders: Vec::new(),
            card_counter: HashMap::new(),
            msisdn_counter: HashMap::new(),
            id_counter: HashMap::new(),
            external_counter: 0,
        };
        w.jurisdictions_and_places(cfg, &mut rng);
        w.outside_parties(cfg, &mut rng);
        w.companies(cfg, &mut rng);
        w.residents(cfg, &mut rng);
        w.social_graph(cfg);
        w.lookalike_parties(cfg, &mut rng, p.sms_gateways_per_100k);
        w
    }

    fn jurisdictions_and_places(&mut self, cfg: &Config, rng: &mut Stream) {
        let towns = cfg.scale.towns();
        let per = cfg.scale.communities_per_town();
        let (lat0, lon0) = (30.27, 120.10);
        for t in 0..towns {
            let tname = TOWN_NAMES[t as usize % TOWN_NAMES.len()];
            let suffix = if t as usize >= TOWN_NAMES.len() {
                format!("{}", t as usize / TOWN_NAMES.len() + 1)
            } else {
                String::new()
            };
            self.towns.push(Town {
                code: format!("{}{:03}", self.district_code, t + 1),
                name: format!("{tname}{suffix}街道"),
                station: format!("{tname}{suffix}派出所"),
            });
            for c in 0..per {
                let ci = self.communities.len() as u32;
                let cname = COMMUNITY_NAMES[(c as usize + t as usize * 3) % COMMUNITY_NAMES.len()];
                let code = format!("{}{:03}{:03}", self.district_code, t + 1, c + 1);
                // A second station serves the outer communities of big towns.
                let station = if c >= 6 {
                    format!("{tname}{suffix}第二派出所")
                } else {
                    format!("{tname}{suffix}派出所")
                };
                let lat = lat0 + f64::from(t % 5) * 0.03 + f64::from(c % 4) * 0.006;
                let lon = lon0 + f64::from(t / 5) * 0.03 + f64::from(c / 4) * 0.006;
                let mut comm = Community {
                    code: code.clone(),
                    name: format!(
                        "{cname}{}社区",
                        if c as usize >= COMMUNITY_NAMES.len() {
                            "二"
                        } else {
                            ""
                        }
                    ),
                    town: t,
                    station,
                    cells: Vec::new(),
                    atms: Vec::new(),
                    ip_base: ident::ipv4(115, 200 + (ci / 256) as u8, (ci % 256) as u8, 0),
                };
                let street = STREETS[rng.index(STREETS.len())];
                let add = |w: &mut Vec<Place>,
                           kind: &'static str,
                           short: &str,
                           name: String,
                           rng: &mut Stream| {
                    let n = w.len();
                    w.push(Place {
                        id: format!("{short}{:05}", n + 1),
                        kind,
                        community: ci,
                        name,
                        address: format!("{street}{}号", rng.between(1, 400)),
                        lat: lat + rng.f64() * 0.005,
                        lon: lon + rng.f64() * 0.005,
                    });
                    n as u32
                };
                for k in 0..3 {
                    let id = add(
                        &mut self.places,
                        "cell",
                        "CELL",
                        format!("{}基站{}", comm.name, k + 1),
                        rng,
                    );
                    comm.cells.push(id);
                }
                for k in 0..2 {
                    let id = add(
                        &mut self.places,
                        "atm",
                        "ATM",
                        format!("{}ATM{}", comm.name, k + 1),
                        rng,
                    );
                    comm.atms.push(id);
                }
                add(
                    &mut self.places,
                    "office",
                    "OFF",
                    format!("{}写字楼", comm.name),
                    rng,
                );
                add(
                    &mut self.places,
                    "apartment",
                    "APT",
                    format!("{}公寓", comm.name),
                    rng,
                );
                if c % 2 == 0 {
                    add(
                        &mut self.places,
                        "hotel",
                        "HTL",
                        format!("{}快捷酒店", comm.name),
                        rng,
                    );
                }
                if c % 3 == 0 {
                    add(
                        &mut self.places,
                        "internet_cafe",
                        "NET",
                        format!("{}网咖", comm.name),
                        rng,
                    );
                }
                self.communities.push(comm);
            }
        }
    }

    /// A new account of the world; `listed` accounts are held in the district.
    #[allow(clippy::too_many_arguments)]
    pub fn add_account(
        &mut self,
        bank: u16,
        holder: u32,
        opened: i64,
        class: &'static str,
        listed: bool,
        balance: i64,
        len: usize,
    ) -> u32 {
        let inst = &INSTITUTIONS[bank as usize];
        let id = match class {
            "payment" => {
                let n = self.card_counter.entry((inst.bin, 0)).or_insert(0);
                *n += 1;
                format!("{}{:012}", inst.bin, (*n * 7_919_393) % 1_000_000_000_000)
            }
            "corporate" => {
                let n = self.card_counter.entry((inst.bin, 1)).or_insert(0);
                *n += 1;
                format!("{}{:011}", &inst.bin[2..], (*n * 48_271) % 100_000_000_000)
            }
            _ => {
                let n = self.card_counter.entry((inst.bin, len)).or_insert(0);
                *n += 1;
                ident::card(inst.bin, len, *n)
            }
        };
        self.push_account(id, bank, holder, opened, class, listed, balance)
    }

    #[allow(clippy::too_many_arguments)]
    fn push_account(
        &mut self,
        id: String,
        bank: u16,
        holder: u32,
        opened: i64,
        class: &'static str,
        listed: bool,
        balance: i64,
    ) -> u32 {
        self.accounts.push(Account {
            id,
            bank,
            holder,
            opened,
            class,
            status: "active",
            listed,
            balance,
        });
        (self.accounts.len() - 1) as u32
    }

    /// A card outside the district (another district's or another bank's), never in
    /// `accounts`; `kind` varies the number block.
    pub fn outside_card(&mut self, rng: &mut Stream) -> u32 {
        let bin = OUTSIDE_BINS[rng.index(OUTSIDE_BINS.len())];
        let n = self.card_counter.entry((bin, 99)).or_insert(0);
        *n += 1;
        let id = ident::card(bin, 19, *n + 500_000_000);
        self.push_account(id, 0, NONE, START, "I", false, 0)
    }

    /// An outside corporate account (a platform, a utility, a desk): digits, no check.
    pub fn outside_corporate(&mut self, prefix: &str) -> u32 {
        let n = self.card_counter.entry(("corp-out", 0)).or_insert(0);
        *n += 1;
        let id = format!("{prefix}{:012}", (*n * 104_729) % 1_000_000_000_000);
        self.push_account(id, 0, NONE, START, "corporate", false, 0)
    }

    /// A new SIM number for `carrier`; with `ported`, its prefix belongs to another carrier.
    pub fn new_msisdn(&mut self, rng: &mut Stream, carrier: usize, ported: bool) -> String {
        let block = if ported {
            (carrier + 1 + rng.index(2)) % 3
        } else {
            carrier
        };
        let prefix = PREFIXES[block][rng.index(PREFIXES[block].len())];
        let n = self.msisdn_counter.entry(prefix).or_insert(0);
        *n += 1;
        ident::msisdn(prefix, *n)
    }

    pub fn add_sim(
        &mut self,
        msisdn: String,
        carrier: u8,
        holder: u32,
        activated: i64,
        kind: &'static str,
    ) -> u32 {
        self.sims.push(Sim {
            msisdn,
            carrier,
            holder,
            activated,
            kind,
            deactivated: i64::MIN,
        });
        (self.sims.len() - 1) as u32
    }

    pub fn add_device(&mut self) -> u32 {
        let n = self.devices.len() as u64;
        let id = format!(
            "DEV{:010X}",
            (n.wrapping_mul(0x9E37_79B9) ^ 0x5A5A_5A5A) & 0xFF_FFFF_FFFF
        );
        self.devices.push(Device {
            id,
            imei: ident::imei(n),
        });
        (self.devices.len() - 1) as u32
    }

    /// An external far-party number; returns it encoded for calls and SMS.
    pub fn add_external(&mut self, number: String) -> u32 {
        self.externals.push(number);
        (self.externals.len() - 1) as u32 | EXTERNAL
    }

    /// A fresh outside mobile number (relatives elsewhere, strangers, new contacts).
    pub fn new_outside_mobile(&mut self, rng: &mut Stream) -> u32 {
        self.external_counter += 1;
        let block = rng.weighted(&CARRIER_SHARE);
        let prefix = PREFIXES[block][rng.index(PREFIXES[block].len())];
        // Outside numbers live in their own counter range so they never equal a district SIM.
        let number = ident::msisdn(prefix, 50_000_000 + self.external_counter);
        self.add_external(number)
    }

    /// A resident-layout id, unique for (prefix, birth date).
    pub fn person_id(&mut self, prefix: &str, birth: i64, male: bool) -> String {
        let date = clock::yyyymmdd(birth);
        let n = self
            .id_counter
            .entry((prefix.to_owned(), date.clone()))
            .or_insert(0);
        *n += 1;
        // Odd sequence numbers are men, even women (GB 11643).
        let seq = (*n * 2 + u32::from(male)) % 1000;
        ident::layout18(prefix, &date, seq)
    }

    fn outside_parties(&mut self, cfg: &Config, rng: &mut Stream) {
        let n = cfg.residents.max(1000);
        for _ in 0..(n / 1000).clamp(20, 400) {
            let a = self.outside_corporate("8801");
            self.online_merchants.push(a);
        }
        for _ in 0..6 {
            let a = self.outside_corporate("3301");
            self.utilities.push(a);
        }
        self.pension_fund = self.outside_corporate("3300");
        for _ in 0..(n / 2000).clamp(10, 300) {
            let a = self.outside_corporate("3302");
            self.outside_employers.push(a);
        }
        for _ in 0..(n / 2000).clamp(10, 300) {
            let a = self.outside_corporate("3303");
            self.wholesalers.push(a);
        }
        for _ in 0..(n / 20).max(50) {
            let a = self.outside_card(rng);
            self.outside_relatives.push(a);
        }
        for s in [
            "95588",
            "95533",
            "95599",
            "95566",
            "95555",
            "95559",
            "10086",
            "10010",
            "10000",
            "12345",
            "4008123123",
            "10690000123",
            "1069055812345",
            "106575000110",
            "95598",
        ] {
            let e = self.add_external(s.to_owned());
            self.service_numbers.push(e);
        }
        for _ in 0..(n / 10).max(200) {
            let e = self.new_outside_mobile(rng);
            self.outside_mobiles.push(e);
        }
    }

    fn companies(&mut self, cfg: &Config, rng: &mut Stream) {
        let count = (cfg.residents / cfg.params.residents_per_company.max(1)).max(10);
        const KINDS: &[&str] = &[
            "商贸", "餐饮", "科技", "物流", "建材", "医药", "文化", "服装",
        ];
        for i in 0..count {
            let community = rng.index(self.communities.len()) as u32;
            let id = ident::credit_code(&self.district_code, u64::from(i) + 1);
            let kind = KINDS[rng.index(KINDS.len())];
            let name = format!(
                "示范区{}{}{}有限公司",
                SURNAMES[rng.index(SURNAMES.len())],
                GIVEN[rng.index(GIVEN.len())],
                kind
            );
            let street = STREETS[rng.index(STREETS.len())];
            let person = self.persons.len() as u32;
            let bank = rng.below(u64::from(BANKS.end)) as u16;
            let opened = START - rng.between(200, 6000) * DAY;
            let balance = (rng.lognormal(400_000.0, 1.0) * 100.0) as i64;
            let account = self.add_account(bank, person, opened, "corporate", true, balance, 0);
            let cell = self.communities[community as usize].cells[0];
            self.persons.push(Person {
                id,
                id_kind: "company",
                name,
                community,
                address: format!("{street}{}号", rng.between(1, 500)),
                age: 0,
                tags: 0,
                employer: NONE,
                payday: 0,
                device: NONE,
                sims: Vec::new(),
                accounts: vec![account],
                wallet: NONE,
                home_cell: cell,
                work_cell: cell,
                household: NONE,
                is_company: true,
                anti_fraud_app: false,
                vpn: false,
            });
            self.companies.push(Company {
                person,
                account,
                community,
                shop: rng.chance(0.5) || matches!(kind, "餐饮" | "服装" | "医药"),
                payday: rng.between(1, 28) as u8,
            });
        }
    }

    fn residents(&mut self, cfg: &Config, rng: &mut Stream) {
        let p = &cfg.params;
        let n = cfg.residents;
        let ncomm = self.communities.len();
        let mut remaining = n;
        while remaining > 0 {
            let community = rng.index(ncomm) as u32;
            // A household: one elderly person living alone, a couple, or a family.
            let elderly_head = rng.chance(p.elderly_share);
            let alone = elderly_head && rng.chance(p.lives_alone_share / 0.6);
            let size = if alone {
                1
            } else {
                [1, 2, 3, 4, 5][rng.weighted(&[0.12, 0.3, 0.3, 0.2, 0.08])]
            }
            .min(remaining);
            let household = self.households.len() as u32;
            let mut members = Vec::with_capacity(size as usize);
            let street = STREETS[rng.index(STREETS.len())];
            let address = format!(
                "{street}{}号{}-{}",
                rng.between(1, 300),
                rng.between(1, 12),
                rng.between(1, 6)
            );
            let surname = SURNAMES[rng.index(SURNAMES.len())];
            for m in 0..size {
                let age: u8 = if m == 0 && elderly_head {
                    rng.between(60, 92) as u8
                } else if m == 0 {
                    rng.between(25, 59) as u8
                } else if elderly_head && m == 1 {
                    rng.between(58, 90) as u8
                } else {
                    // Spouse, children or grandchildren, or a parent in a family.
                    let r = rng.f64();
                    if r < p.student_share * 2.2 {
                        rng.between(16, 24) as u8
                    } else if r < p.student_share * 2.2 + p.elderly_share * 0.6 {
                        rng.between(60, 88) as u8
                    } else {
                        rng.between(25, 59) as u8
                    }
                };
                let person = self.new_resident(
                    cfg, rng, community, household, age, alone, surname, &address,
                );
                members.push(person);
            }
            remaining -= size;
            self.households.push(members);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn new_resident(
        &mut self,
        cfg: &Config,
        rng: &mut Stream,
        community: u32,
        household: u32,
        age: u8,
        alone: bool,
        surname: &str,
        address: &str,
    ) -> u32 {
        let p = &cfg.params;
        let idx = self.persons.len() as u32;
        let mut tags = 0;
        if age >= 60 {
            tags |= tag::ELDERLY | tag::RETIRED;
            if alone {
                tags |= tag::LIVES_ALONE;
            }
        }
        if (16..=24).contains(&age) && rng.chance(0.6) {
            tags |= tag::STUDENT;
        }
        if rng.chance(p.hearing_impaired_share) {
            tags |= tag::HEARING_IMPAIRED;
        }
        let working = tags & (tag::STUDENT | tag::RETIRED) == 0;
        if working {
            let r = rng.f64();
            tags |= if r < 0.04 {
                tag::PUBLIC_SERVANT
            } else if r < 0.08 {
                tag::MEDICAL
            } else if r < 0.11 {
                tag::FINANCE
            } else if r < 0.14 {
                tag::TEACHER
            } else if r < 0.14 + p.rider_share / 0.9 {
                tag::DELIVERY_RIDER
            } else if r < 0.14 + (p.rider_share + p.trader_share) / 0.9 {
                tag::SMALL_TRADER
            } else if r < 0.22 {
                tag::UNEMPLOYED
            } else {
                0
            };
        }
        if age >= 30 && rng.chance(p.group_buy_share) {
            tags |= tag::GROUP_BUY_LEADER;
        }
        let male = rng.chance(0.5);
        let birth = START
            - i64::from(age) * 365 * DAY
            - rng.between(1, 360) * DAY
            - i64::from(age / 4) * DAY;
        let (id, id_kind, name) = if rng.chance(p.foreign_share) {
            let r = rng.f64();
            let name = FOREIGN_NAMES[rng.index(FOREIGN_NAMES.len())].to_owned();
            if r < 0.4 {
                (format!("E{:08}", 10_000_000 + idx), "passport", name)
            } else if r < 0.7 {
                (
                    self.person_id("984033", birth, male),
                    "foreign_permanent",
                    name,
                )
            } else {
                let prefix = ["810000", "820000", "830000"][rng.index(3)];
                let zh = format!("{surname}{}", GIVEN[rng.index(GIVEN.len())]);
                (self.person_id(prefix, birth, male), "hmt_permit", zh)
            }
        } else {
            let region = if rng.chance(0.7) {
                REGIONS_LOCAL[rng.index(REGIONS_LOCAL.len())]
            } else {
                REGIONS_MIGRANT[rng.index(REGIONS_MIGRANT.len())]
            };
            let mut name = format!("{surname}{}", GIVEN[rng.index(GIVEN.len())]);
            if rng.chance(0.6) {
                name.push_str(GIVEN[rng.index(GIVEN.len())]);
            }
            (self.person_id(region, birth, male), "resident", name)
        };
        let comm = &self.communities[community as usize];
        let home_cell = comm.cells[rng.index(comm.cells.len())];
        let (employer, work_cell) = if working && tags & tag::UNEMPLOYED == 0 && rng.chance(0.7) {
            let c = rng.index(self.companies.len());
            let wc = &self.communities[self.companies[c].community as usize];
            (c as u32, wc.cells[rng.index(wc.cells.len())])
        } else {
            (NONE, home_cell)
        };
        let payday = if employer != NONE {
            self.companies[employer as usize].payday
        } else {
            rng.between(1, 28) as u8
        };
        let device = self.add_device();
        // Phones: 1–3 across the carriers; the elderly mostly one.
        let nsims = if age >= 70 {
            1
        } else {
            1 + rng.weighted(&[0.62, 0.3, 0.08])
        };
        let mut sims = Vec::with_capacity(nsims);
        for k in 0..nsims {
            let carrier = rng.weighted(&CARRIER_SHARE);
            let ported = rng.chance(p.ported_share);
            let msisdn = self.new_msisdn(rng, carrier, ported);
            let activated = START - rng.between(30, 4000) * DAY + rng.between(8 * 3600, 20 * 3600);
            // A recycled number: someone else held it before.
            if k == 0 && rng.chance(0.01) && !self.persons.is_empty() {
                let prev = rng.index(self.persons.len()) as u32;
                let old = activated - rng.between(400, 3000) * DAY;
                let s = self.add_sim(msisdn.clone(), carrier as u8, prev, old, "personal");
                self.sims[s as usize].deactivated = activated - rng.between(100, 390) * DAY;
            }
            sims.push(self.add_sim(msisdn, carrier as u8, idx, activated, "personal"));
        }
        // Accounts: 1–6 across the banks, one Class I per bank, then Class II/III.
        let want = match age {
            0..=24 => 1 + rng.weighted(&[0.4, 0.4, 0.2]),
            25..=59 => 1 + rng.weighted(&[0.12, 0.28, 0.27, 0.18, 0.1, 0.05]),
            _ => 1 + rng.weighted(&[0.45, 0.4, 0.15]),
        };
        let mut accounts = Vec::with_capacity(want);
        let smartphone = age < 70 || rng.chance(0.4);
        let wallet = if smartphone && want > 1 {
            let bank = if rng.chance(0.55) { TENPAY } else { ALIPAY };
            let opened = START - rng.between(60, 3000) * DAY;
            let bal = (rng.lognormal(300.0, 1.2) * 100.0) as i64;
            Some(self.add_account(bank, idx, opened, "payment", true, bal, 0))
        } else {
            None
        };
        let mut banks_used: Vec<u16> = Vec::new();
        let cards = want - usize::from(wallet.is_some());
        for k in 0..cards {
            let bank = rng.below(u64::from(BANKS.end)) as u16;
            let class = if !banks_used.contains(&bank) {
                "I"
            } else if rng.chance(0.6) {
                "II"
            } else {
                "III"
            };
            banks_used.push(bank);
            let opened = START - rng.between(60, 6000) * DAY + rng.between(9 * 3600, 16 * 3600);
            let median = if k == 0 {
                if age >= 60 {
                    30_000.0
                } else {
                    8_000.0
                }
            } else {
                600.0
            };
            let bal = (rng.lognormal(median, 1.2) * 100.0) as i64;
            let len = if rng.chance(0.15) { 16 } else { 19 };
            let a = self.add_account(bank, idx, opened, class, true, bal, len);
            if k > 0 && rng.chance(0.04) {
                self.accounts[a as usize].status = "dormant";
            } else {
                accounts.push(a);
            }
        }
        let comm_cells = &self.communities[community as usize].cells;
        let _ = comm_cells;
        self.persons.push(Person {
            id,
            id_kind,
            name,
            community,
            address: address.to_owned(),
            age,
            tags,
            employer,
            payday,
            device,
            sims,
            accounts,
            wallet: wallet.unwrap_or(NONE),
            home_cell,
            work_cell,
            household,
            is_company: false,
            anti_fraud_app: rng.chance(p.anti_fraud_app_share),
            vpn: age < 50 && rng.chance(p.vpn_share),
        });
        if tags & tag::DELIVERY_RIDER != 0 {
            self.riders.push(idx);
        }
        if tags & tag::GROUP_BUY_LEADER != 0 {
            self.group_buy_leaders.push(idx);
        }
        if tags & tag::SMALL_TRADER != 0 {
            self.traders.push(idx);
        }
        idx
    }

    /// Contacts: the household, neighbours in the community, colleagues, and a few people
    /// elsewhere in the district. Communities are the graph's clusters.
    fn social_graph(&mut self, cfg: &Config) {
        let mut rng = Stream::new(cfg.seed, Purpose::Social, 0);
        let mut by_community: Vec<Vec<u32>> = vec![Vec::new(); self.communities.len()];
        let mut by_employer: Vec<Vec<u32>> = vec![Vec::new(); self.companies.len()];
        for (i, p) in self.persons.iter().enumerate() {
            if p.is_company {
                continue;
            }
            by_community[p.community as usize].push(i as u32);
            if p.employer != NONE {
                by_employer[p.employer as usize].push(i as u32);
            }
        }
        let residents: Vec<u32> = by_community.iter().flatten().copied().collect();
        self.contact_offsets.reserve(self.persons.len() + 1);
        self.contact_offsets.push(0);
        for i in 0..self.persons.len() {
            let p = &self.persons[i];
            if !p.is_company {
                for &m in &self.households[p.household as usize] {
                    if m as usize != i {
                        self.contacts.push(m);
                    }
                }
                let neigh = &by_community[p.community as usize];
                let k = if p.age >= 60 { 4 } else { 7 };
                for _ in 0..k {
                    self.contacts.push(neigh[rng.index(neigh.len())]);
                }
                if p.employer != NONE {
                    let col = &by_employer[p.employer as usize];
                    for _ in 0..3 {
                        self.contacts.push(col[rng.index(col.len())]);
                    }
                }
                for _ in 0..2 {
                    self.contacts.push(residents[rng.index(residents.len())]);
                }
                // Friends and relatives outside the district.
                for _ in 0..2 {
                    let e = self.outside_mobiles[rng.index(self.outside_mobiles.len())];
                    self.contacts.push(e);
                }
            }
            self.contact_offsets.push(self.contacts.len() as u32);
        }
    }

    fn lookalike_parties(&mut self, cfg: &Config, rng: &mut Stream, gateways_per_100k: f64) {
        let n = ((f64::from(cfg.residents) / 100_000.0) * gateways_per_100k)
            .ceil()
            .max(1.0) as usize;
        for _ in 0..n {
            let c = rng.index(self.companies.len());
            let holder = self.companies[c].person;
            let msisdn = ident::iot_msisdn(self.sims.len() as u64);
            let activated = START - rng.between(100, 1000) * DAY;
            let s = self.add_sim(msisdn, rng.index(3) as u8, holder, activated, "iot");
            self.sms_gateways.push(s);
        }
    }

    pub fn contacts_of(&self, p: u32) -> &[u32] {
        let a = self.contact_offsets[p as usize] as usize;
        let b = self.contact_offsets[p as usize + 1] as usize;
        &self.contacts[a..b]
    }

    /// A person's primary number as a call party, or [`NONE`].
    pub fn phone_of(&self, p: u32) -> u32 {
        self.persons[p as usize]
            .sims
            .first()
            .copied()
            .unwrap_or(NONE)
    }

    /// A mobile-data address (carrier-grade NAT pools) drawn from `rng`.
    pub fn mobile_ip(rng: &mut Stream) -> u32 {
        ident::ipv4(223, 104, rng.below(256) as u8, rng.below(254) as u8 + 1)
    }

    /// The broadband address of a person's home.
    pub fn home_ip(&self, p: u32) -> u32 {
        let person = &self.persons[p as usize];
        self.communities[person.community as usize].ip_base | (person.household % 253 + 1)
    }

    pub fn resident_count(&self) -> usize {
        self.persons.iter().filter(|p| !p.is_company).count()
    }
}
