import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Seconds each of the longest suites took in a fresh-machine rehearsal of 2026-12-06 (2-core box,
 * the image build beside it), every suite of 3 s or more, both projects. Refresh with
 * `node scripts/ci/suite-seconds.mjs artifacts/vitest-results.json` after a CI run.
 */
export const SUITE_SECONDS: Readonly<Record<string, number>> = {
  "test/reliability/kill-nine.test.ts": 101,
  "test/measurement/agent-stalls.test.ts": 98,
  "test/record/bundle-recompute.test.ts": 96,
  "test/rules/rules.test.ts": 68,
  "test/evidence/runs-forgery.test.ts": 64,
  "test/reliability/long-run.test.ts": 57,
  "test/reliability/fuzz-config.test.ts": 53,
  "test/reliability/fuzz-cli.test.ts": 52,
  "test/evidence/launder.test.ts": 51,
  "test/e2e/alertmanager.test.ts": 50,
  "test/evidence/bundle-verify.test.ts": 44,
  "test/evidence/crash-tail.test.ts": 43,
  "test/record/import-provenance.test.ts": 42,
  "test/reports/report-cli.test.ts": 41,
  "test/regions/hostile-agent.test.ts": 38,
  "test/agent/maintenance-feed-unreadable.test.ts": 36,
  "test/record/tamper.test.ts": 35,
  "test/record/import-memory.test.ts": 34,
  "test/evidence/config-warning.test.ts": 31,
  "test/measurement/unreached-targets.test.ts": 31,
  "test/reliability/counted-committed.test.ts": 31,
  "test/evidence/runs.test.ts": 29,
  "test/measurement/agent-validity.test.ts": 29,
  "test/reports/report-pdf-incidents-break.test.ts": 29,
  "test/record/import-hardening.test.ts": 28,
  "test/evidence/warnings.test.ts": 26,
  "test/security/echoed-receiver-credentials.test.ts": 26,
  "test/probes/echoed-composite-credentials.test.ts": 25,
  "test/traffic/bundle-recompute.test.ts": 25,
  "test/measurement/control-witnesses.test.ts": 25,
  "test/evidence/reach-head.test.ts": 24,
  "test/reports/report-signature.test.ts": 24,
  "test/record/timestamp.test.ts": 23,
  "test/evidence/rollback-trace.test.ts": 22,
  "test/measurement/agent-errors.test.ts": 22,
  "test/record/cli.test.ts": 21,
  "test/record/crash.test.ts": 21,
  "test/regions/merge.test.ts": 20,
  "test/reports/hostile-prometheus.test.ts": 20,
  "test/reports/report-claim.test.ts": 20,
  "test/evidence/rollup-commitments.test.ts": 19,
  "test/traffic/import-identity.test.ts": 19,
  "test/record/prune-boundary.test.ts": 18,
  "test/reliability/slowloris.test.ts": 18,
  "test/agent/reload-alerting.test.ts": 17,
  "test/config/header-credentials.test.ts": 17,
  "test/cli/json-logs.test.ts": 16,
  "test/evidence/runs-traffic-crash.test.ts": 16,
  "test/probes/echoed-cross-probe-credentials.test.ts": 16,
  "test/reports/report-pdf.test.ts": 16,
  "test/cli/help.test.ts": 15,
  "test/config/check-config.test.ts": 15,
  "test/evidence/bundle-head.test.ts": 15,
  "test/probes/run-queue-stall.test.ts": 15,
  "test/record/store.test.ts": 15,
  "test/agent/rollback-guard.test.ts": 14,
  "test/cli/start-up-modules.test.ts": 14,
  "test/evidence/runs-crash.test.ts": 14,
  "test/agent/maintenance-policy-log.test.ts": 13,
  "test/config/secret-files.test.ts": 13,
  "test/reports/import-order.test.ts": 13,
  "test/agent/run-command.test.ts": 12,
  "test/probes/echoed-credentials.test.ts": 12,
  "test/record/bundle-moved-maintenance.test.ts": 12,
  "test/ci/closing-line.test.ts": 11,
  "test/cli/offline-environment.test.ts": 11,
  "test/e2e/prometheus.test.ts": 11,
  "test/measurement/controls-reload.test.ts": 11,
  "test/agent/data-dir-lock.test.ts": 10,
  "test/agent/declared-feed-same-id.test.ts": 10,
  "test/agent/declared-moved-maintenance.test.ts": 10,
  "test/probes/stall-guard.test.ts": 10,
  "test/agent/npm-start.test.ts": 8,
  "test/agent/declared-added-maintenance.test.ts": 7,
  "test/evidence/keys.test.ts": 7,
  "test/agent/status-page.test.ts": 6,
  "test/deploy/kubernetes.test.ts": 6,
  "test/agent/daemon.test.ts": 6,
  "test/agent/reload.test.ts": 5,
  "test/agent/maintenance-feed-run.test.ts": 4,
  "test/probes/http-probe.test.ts": 4,
  "test/agent/early-signals.test.ts": 3,
  "test/agent/events.test.ts": 3,
  "test/agent/status-page-outage.test.ts": 3,
  "test/reports/report-browser.test.ts": 3,
  "test/agent/report-schedule.test.ts": 3,
  "test/export/connection-limits.test.ts": 3,
  "test/export/otlp-failures.test.ts": 3,
  "test/reports/pruned-month.test.ts": 3,
  "test/traffic/status.test.ts": 3,
};

/**
 * Vitest's order (unit project before system project), with each project's longest suites first.
 * On a fresh clone vitest has no durations of its own and starts the largest files first, so a
 * short file that runs long (kill-nine, fuzz-config) started last and the run ended with one
 * worker busy and the others idle; started first, the long suites overlap the many short ones.
 * Suites not in SUITE_SECONDS keep vitest's order, after the listed ones.
 */
export class HeavyFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const seconds = (spec: TestSpecification) =>
      SUITE_SECONDS[relative(this.ctx.config.root, spec.moduleId).split("\\").join("/")] ?? 0;
    const at = new Map(ordered.map((spec, i) => [spec, i]));
    // The projects stay in vitest's order (they are contiguous in it); within one, longest first.
    return [...ordered].sort((a, b) =>
      a.project.name !== b.project.name
        ? at.get(a)! - at.get(b)!
        : seconds(b) - seconds(a) || at.get(a)! - at.get(b)!,
    );
  }
}
