import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Seconds each of the longest suites took in a fresh-machine rehearsal of 2026-12-06 (2-core box,
 * the image build beside it), every suite of 3 s or more, both projects. Refresh with
 * `node scripts/ci/suite-seconds.mjs artifacts/vitest-results.json` after a CI run.
 */
export const SUITE_SECONDS: Readonly<Record<string, number>> = {
  "test/measurement/agent-stalls.test.ts": 92,
  "test/record/bundle-recompute.test.ts": 89,
  "test/reliability/long-run.test.ts": 79,
  "test/reliability/fuzz-config.test.ts": 78,
  "test/reliability/kill-nine.test.ts": 78,
  "test/e2e/alertmanager.test.ts": 60,
  "test/evidence/launder.test.ts": 53,
  "test/reliability/fuzz-cli.test.ts": 53,
  "test/rules/rules.test.ts": 49,
  "test/measurement/control-witnesses.test.ts": 41,
  "test/agent/maintenance-feed-unreadable.test.ts": 33,
  "test/record/import-memory.test.ts": 31,
  "test/reports/report-cli.test.ts": 31,
  "test/measurement/unreached-targets.test.ts": 30,
  "test/evidence/runs-forgery.test.ts": 27,
  "test/record/timestamp.test.ts": 26,
  "test/record/import-provenance.test.ts": 25,
  "test/regions/hostile-agent.test.ts": 25,
  "test/reliability/counted-committed.test.ts": 25,
  "test/reports/report-signature.test.ts": 25,
  "test/security/echoed-receiver-credentials.test.ts": 25,
  "test/evidence/config-warning.test.ts": 24,
  "test/measurement/controls-off-path.test.ts": 24,
  "test/evidence/crash-tail.test.ts": 23,
  "test/record/import-hardening.test.ts": 23,
  "test/record/tamper.test.ts": 23,
  "test/reports/report-pdf-incidents-break.test.ts": 23,
  "test/traffic/bundle-recompute.test.ts": 23,
  "test/probes/echoed-composite-credentials.test.ts": 22,
  "test/measurement/agent-errors.test.ts": 21,
  "test/measurement/agent-validity.test.ts": 21,
  "test/reports/report-claim.test.ts": 21,
  "test/evidence/bundle-verify.test.ts": 20,
  "test/record/store.test.ts": 20,
  "test/evidence/rollback-trace.test.ts": 19,
  "test/regions/merge.test.ts": 19,
  "test/evidence/warnings.test.ts": 18,
  "test/reliability/slowloris.test.ts": 18,
  "test/evidence/reach-head.test.ts": 17,
  "test/evidence/runs.test.ts": 17,
  "test/record/cli.test.ts": 17,
  "test/record/crash.test.ts": 17,
  "test/reports/import-order.test.ts": 17,
  "test/agent/reload-alerting.test.ts": 16,
  "test/record/prune-boundary.test.ts": 16,
  "test/traffic/import-identity.test.ts": 14,
  "test/reports/hostile-prometheus.test.ts": 13,
  "test/probes/echoed-cross-probe-credentials.test.ts": 12,
  "test/cli/json-logs.test.ts": 11,
  "test/evidence/rollup-commitments.test.ts": 11,
  "test/evidence/runs-traffic-crash.test.ts": 11,
  "test/evidence/runs-crash.test.ts": 10,
  "test/probes/run-queue-stall.test.ts": 10,
  "test/agent/rollback-guard.test.ts": 9,
  "test/probes/stall-guard.test.ts": 9,
  "test/probes/echoed-credentials.test.ts": 8,
  "test/agent/run-command.test.ts": 7,
  "test/config/header-credentials.test.ts": 7,
  "test/reports/report-pdf.test.ts": 7,
  "test/agent/feed-left-out.test.ts": 6,
  "test/agent/feed-remap.test.ts": 6,
  "test/ci/closing-line.test.ts": 6,
  "test/config/check-config.test.ts": 6,
  "test/evidence/bundle-head.test.ts": 6,
  "test/agent/daemon.test.ts": 6,
  "test/agent/maintenance-policy-log.test.ts": 5,
  "test/agent/reload.test.ts": 5,
  "test/cli/offline-environment.test.ts": 5,
  "test/e2e/prometheus.test.ts": 5,
  "test/agent/report-schedule.test.ts": 5,
  "test/agent/declared-added-maintenance.test.ts": 4,
  "test/agent/declared-feed-same-id.test.ts": 4,
  "test/agent/declared-moved-maintenance.test.ts": 4,
  "test/cli/help.test.ts": 4,
  "test/deploy/kubernetes.test.ts": 4,
  "test/export/dashboards-cli.test.ts": 4,
  "test/probes/http-probe.test.ts": 4,
  "test/agent/events.test.ts": 3,
  "test/agent/npm-start.test.ts": 3,
  "test/agent/status-page.test.ts": 3,
  "test/cli/start-up-modules.test.ts": 3,
  "test/evidence/keys.test.ts": 3,
  "test/measurement/controls-reload.test.ts": 3,
  "test/record/bundle-moved-maintenance.test.ts": 3,
  "test/reports/pruned-month.test.ts": 3,
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
