/**
 * Wide, real-shaped Intercom data (pure, seeded): custom attribute definitions of mixed types, contacts (users and
 * leads) with every field Intercom fills, and companies with plans, tags and segments. String values run up to 255
 * characters and mix scripts and emoji; some names are 200 characters long. The same seed gives the same data.
 */
import { blankObservedFields } from "../records";
import type {
  AttributeModel,
  CompanyRecord,
  ContactLocation,
  ContactRecord,
  CustomValue,
  DataType,
  Role,
  SegmentRecord,
  SocialProfile,
} from "../types";

/** Custom attributes per model in a wide workspace (Intercom allows 250 per workspace). */
export const WIDE_ATTRIBUTES = 100;
/** Intercom's limit on string attribute values. */
export const MAX_STRING_VALUE = 255;
/** The long names the data includes. */
export const LONG_NAME = 200;
/** Intercom's limit on attribute names. */
const MAX_ATTRIBUTE_NAME = 190;
/** Activity times are spread over the two years before this instant (2025-12-01T00:00:00Z). */
const REFERENCE_SECONDS = Date.UTC(2025, 11, 1) / 1000;
const DAY = 86_400;
const YEAR = 365 * DAY;

/** The types the wide attributes cycle through (Intercom's scalar types; datetime is written like date). */
const TYPES: readonly DataType[] = ["string", "integer", "float", "boolean", "date"];

/** Draws from a seeded PRNG. */
export class Draw {
  readonly random: () => number;

  constructor(random: () => number) {
    this.random = random;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  /** Distinct items, in the order drawn. */
  some<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(this.random() * pool.length), 1)[0]!);
    return out;
  }

  hex(length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) out += Math.floor(this.random() * 16).toString(16);
    return out;
  }

  /** A version-4-shaped UUID (Intercom gives leads one as external_id). */
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${"89ab"[this.int(0, 3)]}${h.slice(17, 20)}-${h.slice(20)}`;
  }

  /** A Unix-seconds time within `spanSeconds` before `before`. */
  timeBefore(before: number, spanSeconds: number): number {
    return before - this.int(0, spanSeconds);
  }
}

/** Pieces of text from many scripts, with emoji (surrogate pairs, ZWJ sequences) and characters that need escaping. */
const FRAGMENTS = [
  "lorem",
  "ipsum",
  "Zoë",
  "naïve",
  "façade",
  "Ærøskøbing",
  "Łódź",
  "Straße",
  "Ελληνικά",
  "кириллица",
  "日本語のテキスト",
  "中文字符",
  "한국어",
  "עברית",
  "العربية",
  "हिन्दी",
  "👩🏽‍💻",
  "🚀",
  "✓",
  "—",
  "“quoted”",
  "it's",
  "back\\slash",
  "<b>tag</b>",
  "&amp;",
  "tab\there",
  "new\nline",
  "%s",
  "{{name}}",
  "null",
  "0",
];

const FIRST_NAMES = [
  "Zoë",
  "Łukasz",
  "Anaïs",
  "Søren",
  "José",
  "Даша",
  "太郎",
  "Mỹ",
  "Ayşe",
  "Siobhán",
  "محمد",
  "Ada",
  "Grace",
  "O'Brien",
];
const LAST_NAMES = [
  "Ångström",
  "Żółć",
  "Núñez",
  "Иванова",
  "山田",
  "Nguyễn",
  "Yılmaz",
  "Ní Bhriain",
  "علي",
  "Lovelace",
  "Hopper",
  "de la Cruz-Müller",
];
const COMPANY_WORDS = [
  "Acme",
  "Globex",
  "Initech",
  "Ümlaut",
  "Søstrene",
  "株式会社",
  "Зенит",
  "Café",
  "Nordisk",
  "Ltd.",
];
const DOMAINS = ["example.com", "example.org", "example.co.uk", "xn--bcher-kva.example", "mail.example.net"];
const LOCATIONS: readonly ContactLocation[] = [
  { country: "Germany", region: "Bavaria", city: "München", country_code: "DEU", continent_code: "EU" },
  { country: "Japan", region: "Tokyo", city: "東京", country_code: "JPN", continent_code: "AS" },
  { country: "United States", region: "California", city: "San Francisco", country_code: "USA", continent_code: "NA" },
  { country: "Brazil", region: "São Paulo", city: "São Paulo", country_code: "BRA", continent_code: "SA" },
  { country: "Ireland", region: "Dublin", city: "Dublin", country_code: "IRL", continent_code: "EU" },
];
const BROWSERS = ["chrome", "firefox", "safari", "edge"];
const LANGUAGES = ["en", "en-GB", "fr", "de", "ja", "pt-BR"];
const SYSTEMS = ["Windows 10", "OS X 14.4.1", "Linux", "iOS 17.4", "Android 14"];
const INDUSTRIES = ["Software", "Manufacturing", "Financial Services", "Health Care", "Éducation", "小売"];
const PLANS = ["Free", "Starter", "Pro", "Enterprise", "Ünïcödé Premium"];
const SOCIAL = ["Twitter", "LinkedIn", "GitHub", "Facebook"];
const PHONES = [
  { shown: (n: string) => `+44 20 7946 ${n}`, e164: (n: string) => `+44207946${n}` },
  { shown: (n: string) => `+1 (202) 555-${n}`, e164: (n: string) => `+1202555${n}` },
  { shown: (n: string) => `+353 87 123 ${n}`, e164: (n: string) => `+35387123${n}` },
];

/** Cuts `text` to at most `max` UTF-16 units without splitting a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const end = /[\uD800-\uDBFF]/.test(text[max - 1]!) ? max - 1 : max;
  return text.slice(0, end);
}

/** Text of exactly `length` UTF-16 units (or one less, to keep a surrogate pair whole). */
function textOf(draw: Draw, length: number): string {
  let text = draw.pick(FRAGMENTS);
  while (text.length < length) text += ` ${draw.pick(FRAGMENTS)}`;
  return cut(text, length);
}

/** A string attribute value: mostly short, often exactly 255 characters long. */
function stringValue(draw: Draw): string {
  return textOf(draw, draw.chance(0.3) ? MAX_STRING_VALUE : draw.int(1, MAX_STRING_VALUE));
}

function personName(draw: Draw): string {
  const name = `${draw.pick(FIRST_NAMES)} ${draw.pick(LAST_NAMES)}`;
  return draw.chance(0.15) ? cut(`${name} ${textOf(draw, LONG_NAME)}`, LONG_NAME) : name;
}

function companyName(draw: Draw, index: number): string {
  const name = `${draw.pick(COMPANY_WORDS)} ${draw.pick(COMPANY_WORDS)} ${index}`;
  return draw.chance(0.15) ? cut(`${name} ${textOf(draw, LONG_NAME)}`, LONG_NAME) : name;
}

const slug = (text: string) =>
  text
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "")
    .slice(0, 20) || "x";

/** A custom attribute definition of a wide workspace. */
export interface WideAttribute {
  name: string;
  data_type: DataType;
}

/**
 * `count` attribute definitions for a model, cycling through string, integer, float, boolean and date. One name is
 * 190 characters long, Intercom's maximum.
 */
export function wideAttributeDefinitions(model: AttributeModel, count = WIDE_ATTRIBUTES): WideAttribute[] {
  const words: Record<DataType, string> = {
    string: "text",
    integer: "count",
    float: "score",
    boolean: "flag",
    date: "at",
    datetime: "at",
  };
  return Array.from({ length: count }, (_, i) => {
    const dataType = TYPES[i % TYPES.length]!;
    const number = String(i + 1).padStart(3, "0");
    let name = dataType === "date" ? `${model}_${number}_at` : `${model}_${words[dataType]}_${number}`;
    if (i === 5) name = `${name}_${"long".repeat(MAX_ATTRIBUTE_NAME)}`.slice(0, MAX_ATTRIBUTE_NAME);
    return { name, data_type: dataType };
  });
}

function attributeValue(draw: Draw, dataType: DataType): CustomValue {
  switch (dataType) {
    case "string":
      return stringValue(draw);
    case "integer":
      return draw.chance(0.05) ? 2_147_483_647 : draw.int(-1000, 1_000_000);
    case "float":
      return Math.round((draw.random() * 2 - 0.5) * 1e6) / 1e2;
    case "boolean":
      return draw.chance(0.5);
    case "date":
    case "datetime":
      return draw.timeBefore(REFERENCE_SECONDS + YEAR, 10 * YEAR);
  }
}

/** Values for most attributes (about one in ten is left unset, as real records have gaps). */
export function wideAttributeValues(draw: Draw, attributes: readonly WideAttribute[]): Record<string, CustomValue> {
  const values: Record<string, CustomValue> = {};
  for (const attribute of attributes) {
    if (draw.chance(0.9)) values[attribute.name] = attributeValue(draw, attribute.data_type);
  }
  return values;
}

/** Tags a wide workspace uses (names mix scripts and emoji). */
export const WIDE_TAG_NAMES = [
  "VIP",
  "Beta tester",
  "Churn risk ⚠️",
  "Großkunde",
  "日本市場",
  "Onboarding",
  "Needs follow-up",
  "Partner",
  "Événement 2025",
  "Renewal Q3",
  "NPS promoter",
  "Enterprise",
  "Trial",
  "Сообщество",
  "Do not contact",
];

/** Segments a wide workspace's companies belong to. */
export function wideSegments(draw: Draw, nowSeconds: number): SegmentRecord[] {
  return ["Active", "Slipping away", "New", "Enterprise accounts", "Ünïcödé segment"].map((name) => ({
    id: draw.hex(24),
    name,
    person_type: "user",
    created_at: draw.timeBefore(nowSeconds, YEAR),
    updated_at: nowSeconds,
  }));
}

export interface WideContactInit {
  id: string;
  index: number;
  role: Role;
  /** Makes external ids and emails unique to one seeding. */
  tag: string;
  attributes: readonly WideAttribute[];
  adminId: string;
}

/** A contact with every field filled the way real workspaces fill them: gaps, unicode, long values. */
export function wideContactRecord(draw: Draw, init: WideContactInit): ContactRecord {
  const isUser = init.role === "user";
  const name = !isUser && draw.chance(0.2) ? null : personName(draw);
  const hasEmail = isUser ? draw.chance(0.95) : draw.chance(0.7);
  const local = `${slug(name ?? "lead")}.${init.tag}.${init.index}`;
  const email = hasEmail ? `${draw.chance(0.1) ? local.toUpperCase() : local}@${draw.pick(DOMAINS)}` : null;
  const phoneFormat = draw.chance(0.6) ? draw.pick(PHONES) : null;
  const phoneDigits = String(draw.int(0, 9999)).padStart(4, "0");
  const created = draw.timeBefore(REFERENCE_SECONDS - DAY, 2 * YEAR);
  const updated = Math.min(REFERENCE_SECONDS, created + draw.int(0, YEAR));
  const seen = (p: number) => (draw.chance(p) ? draw.int(created, REFERENCE_SECONDS) : null);
  const observed = blankObservedFields();
  Object.assign(observed, {
    formatted_phone: phoneFormat ? phoneFormat.e164(phoneDigits) : null,
    has_hard_bounced: draw.chance(0.03),
    marked_email_as_spam: draw.chance(0.02),
    last_replied_at: seen(0.5),
    last_contacted_at: seen(0.6),
    last_email_opened_at: seen(0.5),
    last_email_clicked_at: seen(0.3),
    language_override: draw.chance(0.2) ? draw.pick(LANGUAGES) : null,
    location: draw.chance(0.85) ? { ...draw.pick(LOCATIONS) } : observed.location,
    social_profiles: draw.some(SOCIAL, draw.int(0, 3)).map(
      (network): SocialProfile => ({
        name: network,
        url: `https://${network.toLowerCase()}.com/${slug(name ?? "x")}`,
      }),
    ),
    note_ids: Array.from({ length: draw.chance(0.03) ? 11 : draw.int(0, 2) }, () => String(draw.int(1e6, 9e6))),
  });
  if (draw.chance(0.8)) {
    Object.assign(observed, {
      browser: draw.pick(BROWSERS),
      browser_version: `${draw.int(100, 130)}.0.${draw.int(1000, 9999)}.${draw.int(10, 99)}`,
      browser_language: draw.pick(LANGUAGES),
      os: draw.pick(SYSTEMS),
    });
  }
  if (draw.chance(0.15)) {
    Object.assign(observed, {
      android_app_name: "Wide App",
      android_app_version: `5.${draw.int(0, 20)}.${draw.int(0, 9)}`,
      android_device: draw.pick(["Pixel 8", "SM-S918B", "Xiaomi 13T"]),
      android_os_version: String(draw.int(11, 15)),
      android_sdk_version: String(draw.int(30, 35)),
      android_last_seen_at: seen(1),
    });
  }
  if (draw.chance(0.2)) {
    Object.assign(observed, {
      ios_app_name: "Wide App",
      ios_app_version: `5.${draw.int(0, 20)}.${draw.int(0, 9)}`,
      ios_device: draw.pick(["iPhone15,3", "iPad13,4", "iPhone16,1"]),
      ios_os_version: `17.${draw.int(0, 5)}`,
      ios_sdk_version: `16.${draw.int(0, 5)}.0`,
      ios_last_seen_at: seen(1),
    });
  }
  if (draw.chance(0.4)) {
    Object.assign(observed, {
      utm_campaign: draw.pick(["spring_sale", "Lancement été", "webinar-2025"]),
      utm_content: draw.pick(["banner", "cta-🚀"]),
      utm_medium: draw.pick(["email", "cpc", "social"]),
      utm_source: draw.pick(["newsletter", "google", "linkedin"]),
      utm_term: draw.pick(["crm sync", "intégration"]),
    });
  }
  if (draw.chance(0.5))
    observed.referrer = `https://www.google.com/search?q=${encodeURIComponent(draw.pick(FRAGMENTS))}`;
  return {
    id: init.id,
    role: init.role,
    external_id: isUser ? `wide-${init.tag}-u${init.index}` : draw.uuid(),
    email,
    phone: phoneFormat ? phoneFormat.shown(phoneDigits) : null,
    name,
    avatar: draw.chance(0.4) ? `https://static.example.com/avatars/${draw.hex(16)}.png` : null,
    owner_id: draw.chance(0.3) ? init.adminId : null,
    unsubscribed_from_emails: draw.chance(0.1),
    signed_up_at: isUser ? draw.int(created, updated) : null,
    last_seen_at: seen(0.7),
    custom_attributes: wideAttributeValues(draw, init.attributes),
    created_at_ms: created * 1000,
    updated_at_ms: updated * 1000,
    archived: false,
    searchable_at_ms: updated * 1000,
    observed,
  };
}

export interface WideCompanyInit {
  id: string;
  index: number;
  tag: string;
  attributes: readonly WideAttribute[];
  /** Tag and segment ids to draw the company's from. */
  tagIds: readonly string[];
  segmentIds: readonly string[];
}

/** A company with plan, size, website, industry, spend, sessions, tags, segments and wide custom attributes. */
export function wideCompanyRecord(draw: Draw, init: WideCompanyInit): CompanyRecord {
  const name = companyName(draw, init.index);
  const created = draw.timeBefore(REFERENCE_SECONDS - DAY, 3 * YEAR);
  const updated = Math.min(REFERENCE_SECONDS, created + draw.int(0, YEAR));
  return {
    id: init.id,
    company_id: `wide-${init.tag}-co${init.index}`,
    name,
    plan: draw.chance(0.9) ? draw.pick(PLANS) : null,
    size: draw.chance(0.9) ? draw.int(1, 250_000) : null,
    website: draw.chance(0.9) ? `https://www.${slug(name)}.example` : null,
    industry: draw.chance(0.9) ? draw.pick(INDUSTRIES) : null,
    monthly_spend: draw.chance(0.02) ? 2_147_483_647 : draw.int(0, 50_000),
    remote_created_at: draw.timeBefore(created, 5 * YEAR),
    last_request_at: draw.chance(0.8) ? draw.int(created, REFERENCE_SECONDS) : null,
    session_count: draw.int(0, 100_000),
    tag_ids: draw.some(init.tagIds, draw.int(0, 3)),
    segment_ids: draw.some(init.segmentIds, draw.int(0, 2)),
    custom_attributes: wideAttributeValues(draw, init.attributes),
    created_at_ms: created * 1000,
    updated_at_ms: updated * 1000,
  };
}

/** How many of `pool` a contact gets: 1–3 usually, 12 now and then (so embedded lists show `has_more`). */
export function wideLinkCount(draw: Draw): number {
  return draw.chance(0.03) ? 12 : draw.int(1, 3);
}
