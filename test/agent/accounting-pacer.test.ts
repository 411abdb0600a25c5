import { describe, expect, it } from "vitest";
import { AccountingPacer } from "../../src/agent/accounting-pacer.js";
import { FakeClock } from "../../src/clock/fake.js";

/** A pacer over a counter the test moves, recording when (fake monotonic ms) each accounting went. */
function pacer() {
  const clock = new FakeClock(Date.UTC(2026, 11, 7));
  let changes = 0;
  const sent: { at: number; changes: number }[] = [];
  const p = new AccountingPacer({
    clock,
    everyMs: 1_000,
    changes: () => changes,
    send: () => sent.push({ at: clock.monotonic(), changes }),
  });
  const start = clock.monotonic();
  return {
    clock,
    p,
    sent,
    at: () => clock.monotonic() - start,
    change() {
      changes++;
      p.changed();
    },
    sentAt: () => sent.map((s) => s.at - start),
  };
}

describe("the prober thread's run accounting (AccountingPacer)", () => {
  it("sends nothing while nothing changes: an idle thread is not woken each second", () => {
    const t = pacer();
    t.change();
    t.clock.advance(1_000);
    expect(t.sent).toHaveLength(1);
    t.clock.advance(60_000);
    t.p.batchSent();
    expect(t.sent).toHaveLength(1);
  });

  it("goes with the batch of results that changed it when the last one went a second ago or more", () => {
    const t = pacer();
    t.change();
    t.clock.advance(30);
    t.p.batchSent();
    expect(t.sentAt()).toEqual([30]);
    t.clock.advance(2_300);
    t.change();
    t.clock.advance(50);
    t.p.batchSent();
    expect(t.sentAt()).toEqual([30, 2_380]);
  });

  it("goes at most once a second however many batches change it (200 probes/s), the newest each time", () => {
    const t = pacer();
    for (let ms = 0; ms < 5_000; ms += 50) {
      t.change();
      t.p.batchSent();
      t.clock.advance(50);
    }
    t.clock.advance(1_000);
    const at = t.sentAt();
    expect(at.length).toBeGreaterThanOrEqual(5);
    expect(at.length).toBeLessThanOrEqual(6);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(1_000);
    expect(t.sent.at(-1)!.changes).toBe(100);
  });

  it("sends a change no batch carries (a skipped run) within a second", () => {
    const t = pacer();
    t.change();
    t.p.batchSent();
    t.clock.advance(5_000);
    t.change();
    t.clock.advance(999);
    expect(t.sent).toHaveLength(1);
    t.clock.advance(1);
    expect(t.sentAt()).toEqual([0, 6_000]);
  });

  it("flush() sends a change at once (a reload, the last one at stop); after stop() no timer sends", () => {
    const t = pacer();
    t.change();
    t.p.batchSent();
    t.change();
    t.p.flush();
    expect(t.sent.map((s) => s.changes)).toEqual([1, 2]);
    t.p.stop();
    t.change();
    t.clock.advance(10_000);
    expect(t.sent).toHaveLength(2);
    t.p.flush();
    expect(t.sent.map((s) => s.changes)).toEqual([1, 2, 3]);
  });
});
