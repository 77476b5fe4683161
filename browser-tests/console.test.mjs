// The console as its users drive it, in Debian's headless Chromium. tests/browser.rs starts
// a server on a seeded store and runs this file with `node --test`; everything it needs
// comes in the environment, so the file knows no data of its own.
//
// Screenshots go to FANZHA_ARTIFACTS: they are the test's artefacts, kept by CI.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (tests/browser.rs sets it)`);
  return v;
};

const BASE = env("FANZHA_URL");
const ARTIFACTS = env("FANZHA_ARTIFACTS");
const PASSWORD = env("FANZHA_PASSWORD");
const PERSON_ID = env("FANZHA_PERSON_ID");
const PERSON_NAME = env("FANZHA_PERSON_NAME");
const FOREIGN_ACCOUNT = env("FANZHA_FOREIGN_ACCOUNT");

let browser;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.FANZHA_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // Containers give Chromium no user namespaces for its sandbox.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
});

after(async () => {
  await browser?.close();
});

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// A fresh browser context per user: cookies never cross between roles.
async function logIn(username) {
  const context = await browser.newContext({ locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  const page = await context.newPage();
  await page.goto(`${BASE}/console/login`);
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', PASSWORD);
  await Promise.all([page.waitForURL(/\/console\/dashboard/), page.click('button[type="submit"]')]);
  return { context, page };
}

async function openPersonAs(page) {
  await page.goto(`${BASE}/console/search`);
  await page.fill('input[name="q"]', PERSON_ID);
  await Promise.all([page.waitForLoadState("load"), page.press('input[name="q"]', "Enter")]);
  const hits = page.locator('[data-testid="hit"]');
  assert.ok((await hits.count()) >= 1, "the person is found by id");
  await Promise.all([page.waitForURL(/\/console\/entity\//), hits.first().locator("a").first().click()]);
}

test("an analyst reads the dashboard, opens a masked profile, reveals with a reason; the auditor sees it", async () => {
  const { context, page } = await logIn("analyst");
  try {
    for (const id of ["kpi-reports", "kpi-cases", "kpi-loss"]) {
      await page.locator(`[data-testid="${id}"]`).waitFor();
    }
    assert.ok((await page.locator('svg[data-testid^="trend-"]').count()) >= 1, "trend charts are drawn");
    await shot(page, "01-analyst-dashboard");

    await openPersonAs(page);
    const html = await page.content();
    assert.ok(!html.includes(PERSON_ID), "the id is masked everywhere in the page, links included");
    assert.ok(!html.includes(PERSON_NAME), "the name is masked");
    await shot(page, "02-profile-masked");

    await page.selectOption('select[name="field"]', { index: 0 });
    await page.fill('textarea[name="reason"]', "核查被害人身份以便返还资金（浏览器测试）");
    await Promise.all([page.waitForLoadState("load"), page.click('[data-testid="reveal-submit"]')]);
    const revealed = (await page.locator('[data-testid="revealed"]').innerText()).trim();
    assert.ok(revealed.length > 0, "a revealed value is shown");
    assert.ok(
      [PERSON_ID, PERSON_NAME].some((raw) => revealed.includes(raw)) || /\d{3,}/.test(revealed),
      `the revealed value is the raw one: ${revealed}`,
    );
    await shot(page, "03-profile-revealed");

    // The analyst's own audit access is refused: the trail is the auditors'.
    const refused = await page.goto(`${BASE}/console/audit`);
    assert.equal(refused.status(), 403);
  } finally {
    await context.close();
  }

  const auditor = await logIn("auditor");
  try {
    await auditor.page.goto(`${BASE}/console/audit?action=reveal`);
    const rows = auditor.page.locator('[data-testid="audit-row"]');
    assert.ok((await rows.count()) >= 1, "the reveal is on record");
    const text = await rows.first().innerText();
    assert.ok(text.includes("analyst"), `the row names the analyst: ${text}`);
    assert.ok(!(await auditor.page.content()).includes(PERSON_ID), "the audit page masks the id");
    await shot(auditor.page, "04-audit-reveal");
    await auditor.page.goto(`${BASE}/console/audit/verify`);
    await auditor.page.locator('[data-testid="verify-result"]').waitFor();
    await shot(auditor.page, "05-audit-verify");
  } finally {
    await auditor.context.close();
  }
});

test("a bank operator is refused another bank's data", async () => {
  // The analyst finds the foreign bank's account and hands its page address over.
  const analyst = await logIn("analyst");
  let foreignUrl;
  try {
    await analyst.page.goto(`${BASE}/console/search?q=${encodeURIComponent(FOREIGN_ACCOUNT)}`);
    const hit = analyst.page.locator('[data-testid="hit"] a').first();
    foreignUrl = new URL(await hit.getAttribute("href"), BASE).toString();
  } finally {
    await analyst.context.close();
  }

  const { context, page } = await logIn("bank_operator");
  try {
    await page.goto(`${BASE}/console/search?q=${encodeURIComponent(FOREIGN_ACCOUNT)}`);
    assert.equal(await page.locator('[data-testid="hit"]').count(), 0, "the search finds nothing foreign");
    const res = await page.goto(foreignUrl);
    assert.ok([403, 404].includes(res.status()), `the foreign account's page is refused: ${res.status()}`);
    assert.ok(!(await page.content()).includes(FOREIGN_ACCOUNT));
    await shot(page, "06-bank-refused");
  } finally {
    await context.close();
  }
});

test("the console switches to English", async () => {
  const { context, page } = await logIn("commander");
  try {
    await page.click('[data-testid="lang-en"]');
    await page.waitForLoadState("load");
    assert.match(await page.locator("html").getAttribute("lang"), /^en/);
    await shot(page, "07-dashboard-english");
  } finally {
    await context.close();
  }
});
