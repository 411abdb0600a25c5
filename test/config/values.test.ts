import { describe, expect, it } from "vitest";
import {
  canonicalBaseUrl,
  cronProblem,
  isHttpUrl,
  parseDuration,
  parseListen,
  parsePercent,
  parseTimestamp,
  percentToRatio,
} from "../../src/config/values.js";

describe("durations are written with a unit and become milliseconds", () => {
  it.each([
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["250ms", 250],
    ["1.5s", 1_500],
    ["2d", 172_800_000],
    ["30", null],
    ["30 s", null],
    ["s", null],
    ["", null],
    ["-5s", null],
  ])("%s -> %s", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe("availability targets are percentages that become ratios", () => {
  it.each([
    [99.0, 0.99],
    ["99.0", 0.99],
    ["99.9", 0.999],
    [99.95, 0.9995],
    [100, 1],
  ])("%s -> %s", (wire, ratio) => {
    expect(percentToRatio(parsePercent(wire)!)).toBe(ratio);
  });

  it.each(["ninety", "99%", "", "1e2"])("%s is not a percentage", (wire) => {
    expect(parsePercent(wire)).toBeNull();
  });
});

describe("timestamps need a date, a time and a zone", () => {
  it.each([
    ["2026-10-10T01:00:00Z", Date.UTC(2026, 9, 10, 1)],
    ["2026-10-10T01:00Z", Date.UTC(2026, 9, 10, 1)],
    ["2026-10-10T03:00:00+02:00", Date.UTC(2026, 9, 10, 1)],
    ["2026-10-10T01:00:00.250Z", Date.UTC(2026, 9, 10, 1, 0, 0, 250)],
    ["2026-10-10T01:00:00", null],
    ["2026-10-10", null],
    ["2026-10-10 01:00:00Z", null],
    ["2026-02-30T00:00:00Z", null],
    ["yesterday", null],
  ])("%s -> %s", (text, ms) => {
    expect(parseTimestamp(text)).toBe(ms);
  });
});

describe("listen addresses are HOST:PORT", () => {
  it.each([
    ["0.0.0.0:9464", { host: "0.0.0.0", port: 9464 }],
    ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }],
    ["[::1]:9464", { host: "::1", port: 9464 }],
    ["localhost:80", { host: "localhost", port: 80 }],
    ["9464", null],
    ["localhost:65536", null],
    [":9464", null],
  ])("%s -> %j", (text, listen) => {
    expect(parseListen(text)).toEqual(listen);
  });
});

describe("base URLs are absolute http(s) and lose their trailing slash", () => {
  it.each([
    ["https://api.klarna.com", true],
    ["http://127.0.0.1:8080/base", true],
    ["ftp://api.klarna.com", false],
    ["api.klarna.com", false],
    ["/v1", false],
  ])("%s valid: %s", (url, valid) => {
    expect(isHttpUrl(url)).toBe(valid);
  });

  it.each([
    ["https://api.klarna.com/", "https://api.klarna.com"],
    ["http://127.0.0.1:8080/base//", "http://127.0.0.1:8080/base"],
    ["https://api.klarna.com", "https://api.klarna.com"],
  ])("%s -> %s", (url, canonical) => {
    expect(canonicalBaseUrl(url)).toBe(canonical);
  });
});

describe("cron schedules have 5 fields, or 6 with seconds first", () => {
  it.each([
    ["*/30 * * * * *", null],
    ["*/5 * * * *", null],
    ["0 0 1 * *", null],
    ["* * *", "must be a cron expression with 5 fields, or 6 with seconds first (got 3)"],
    ["0 0 0 * * * *", "must be a cron expression with 5 fields, or 6 with seconds first (got 7)"],
    ["61 * * * *", "invalid cron expression: 61 is a invalid expression for minute"],
  ])("%s -> %s", (expression, problem) => {
    expect(cronProblem(expression)).toBe(problem);
  });
});
