import { mkdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Running, sleep } from "../export/live-processes.js";
import { startAgent } from "../support/processes.js";

const ROOT = join(import.meta.dirname, "../..");
const ARTIFACTS = join(ROOT, "artifacts");

describe("/status in headless Chromium (slo-agent demo)", () => {
  let dir: string;
  let demo: Running;
  let agent: string;
  let browser: Browser;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "slo-status-"));
    const started = await startAgent(
      "demo",
      ["--data-dir", dir, "--every", "200ms", "--log-level", "error"],
      {
        cwd: dir,
        timeoutMs: 20_000,
      },
    );
    demo = started.agent;
    agent = started.url;
    const simulator = await demo.simulator(1_000);
    const patch = await fetch(`${simulator}/__sim/scenario/categories/payment_request`, {
      method: "PATCH",
      body: '{"error_rate": 1, "error_status": 503}',
    });
    expect(patch.status).toBe(200);
    for (let i = 0; i < 100 && !(await (await fetch(`${agent}/status`)).text()).includes("<td>503</td>"); i++)
      await sleep(100);
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
      ],
    });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [name, viewport] of [
    ["phone", { width: 390, height: 844 }],
    ["desktop", { width: 1280, height: 900 }],
  ] as const) {
    it(`leads with the failing category (banner, first card, above the fold) and renders every category, the budget bars and the latest failures at ${name} width, with no external request`, async () => {
      const context = await browser.newContext({ viewport });
      const foreign: string[] = [];
      await context.route("**/*", (route) => {
        if (route.request().url().startsWith(agent)) return route.continue();
        foreign.push(route.request().url());
        return route.abort();
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      const response = await page.goto(`${agent}/status`, { waitUntil: "load" });
      expect(response?.status()).toBe(200);
      expect(await page.locator("section.card").count()).toBe(13);
      // What is wrong comes first: the banner names payment_request, whose card leads, on screen.
      const banner = page.locator(".banner.bad");
      expect(await banner.isVisible()).toBe(true);
      expect(await banner.textContent()).toMatch(/^\d+ of 13 categories missing their SLO or alerting/);
      expect(await banner.locator("li").first().textContent()).toContain("Payment Request");
      const first = page.locator("section.card").first();
      expect(await first.textContent()).toContain("payment_request");
      expect(await first.getAttribute("data-standing")).toBe("breach");
      for (const shown of [banner, first]) {
        const box = await shown.boundingBox();
        expect(box, "on the first screen").not.toBeNull();
        expect(box!.y + box!.height).toBeLessThanOrEqual(viewport.height);
      }
      expect(await page.locator("nav a").evaluateAll((as) => as.map((a) => a.getAttribute("href")))).toEqual([
        "/alerts",
        "/metrics",
        "/",
      ]);
      expect(await page.locator(".bar").count()).toBe(13);
      const card = page.locator("section.card", { hasText: "payment_request" });
      expect(await card.textContent()).toMatch(/Month to date\s*\d+\.\d{3}%/);
      expect(await card.textContent()).toContain("p99 / objective");
      const failure = page.locator("tbody tr", { hasText: "payment_request" }).first();
      expect(await failure.textContent()).toContain("503");
      // Every failure row carries the correlation id the simulator sent.
      expect((await failure.locator("td").nth(5).textContent())?.trim().length).toBeGreaterThan(0);
      const overflow = (await page.evaluate(
        "document.documentElement.scrollWidth - window.innerWidth",
      )) as number;
      expect(overflow).toBeLessThanOrEqual(0);
      await page.screenshot({ path: join(ARTIFACTS, `status-${name}.png`), fullPage: true });
      expect(foreign).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    }, 30_000);
  }

  it("/ links every endpoint", async () => {
    const page = await browser.newPage();
    await page.goto(`${agent}/`);
    const links = await page.locator("a").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    expect(links).toEqual(["/status", "/alerts", "/metrics", "/healthz", "/readyz"]);
    for (const link of links) expect((await fetch(`${agent}${link}`)).status).toBe(200);
    await page.close();
  });
});
