import { relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Seconds each of the longest suites took in the CI run of 2026-12-06 (2-core box, the image build
 * beside it), every suite of 3 s or more, both projects. Refresh with
 * `node scripts/ci/suite-seconds.mjs artifacts/vitest-results.json` after a CI run.
 */
export const SUITE_SECONDS: Readonly<Record<string, number>> = {
  "test/regions/hostile-agent.test.ts": 129,
  "test/measurement/agent-stalls.test.ts": 95,
  "test/reliability/kill-nine.test.ts": 78,
  "test/record/bundle-recompute.test.ts": 72,
  "test/reliability/fuzz-cli.test.ts": 55,
  "test/reliability/fuzz-config.test.ts": 54,
  "test/e2e/alertmanager.test.ts": 45,
  "test/reports/report-cli.test.ts": 43,
  "test/reliability/long-run.test.ts": 39,
  "test/evidence/launder.test.ts": 36,
  "test/rules/rules.test.ts": 33,
  "test/measurement/control-witnesses.test.ts": 27,
  "test/reliability/counted-committed.test.ts": 25,
  "test/security/echoed-receiver-credentials.test.ts": 23,
  "test/evidence/bundle-verify.test.ts": 21,
  "test/evidence/crash-tail.test.ts": 21,
  "test/measurement/agent-validity.test.ts": 21,
  "test/record/crash.test.ts": 21,
  "test/measurement/agent-errors.test.ts": 20,
  "test/reports/report-pdf-incidents-break.test.ts": 19,
  "test/measurement/unreached-targets.test.ts": 18,
  "test/probes/echoed-composite-credentials.test.ts": 18,
  "test/record/import-hardening.test.ts": 18,
  "test/record/tamper.test.ts": 18,
  "test/reliability/slowloris.test.ts": 18,
  "test/reports/hostile-prometheus.test.ts": 18,
  "test/cli/json-logs.test.ts": 17,
  "test/agent/reload-alerting.test.ts": 16,
  "test/record/timestamp.test.ts": 16,
  "test/probes/echoed-cross-probe-credentials.test.ts": 15,
  "test/record/cli.test.ts": 15,
  "test/reports/report-signature.test.ts": 15,
  "test/traffic/import-identity.test.ts": 15,
  "test/evidence/reach-head.test.ts": 14,
  "test/record/import-memory.test.ts": 14,
  "test/traffic/bundle-recompute.test.ts": 14,
  "test/agent/maintenance-policy-log.test.ts": 12,
  "test/evidence/warnings.test.ts": 12,
  "test/record/import-provenance.test.ts": 12,
  "test/record/store.test.ts": 12,
  "test/reports/import-order.test.ts": 12,
  "test/record/bundle-moved-maintenance.test.ts": 11,
  "test/regions/merge.test.ts": 11,
  "test/agent/declared-moved-maintenance.test.ts": 10,
  "test/record/prune-boundary.test.ts": 10,
  "test/agent/run-command.test.ts": 9,
  "test/cli/help.test.ts": 9,
  "test/probes/echoed-credentials.test.ts": 9,
  "test/probes/stall-guard.test.ts": 9,
  "test/reports/report-pdf.test.ts": 9,
  "test/agent/data-dir-lock.test.ts": 8,
  "test/config/header-credentials.test.ts": 8,
  "test/evidence/bundle-head.test.ts": 8,
  "test/ci/closing-line.test.ts": 7,
  "test/cli/offline-environment.test.ts": 7,
  "test/cli/start-up-modules.test.ts": 7,
  "test/e2e/prometheus.test.ts": 7,
  "test/reports/report-claim.test.ts": 7,
  "test/agent/npm-start.test.ts": 6,
  "test/config/check-config.test.ts": 6,
  "test/agent/declared-added-maintenance.test.ts": 5,
  "test/agent/reload.test.ts": 5,
  "test/export/dashboards-cli.test.ts": 5,
  "test/agent/events.test.ts": 4,
  "test/deploy/kubernetes.test.ts": 4,
  "test/evidence/keys.test.ts": 4,
  "test/probes/http-probe.test.ts": 4,
  "test/agent/status-page-outage.test.ts": 3,
  "test/agent/status-page.test.ts": 3,
  "test/config/secret-files.test.ts": 3,
  "test/agent/daemon.test.ts": 3,
  "test/agent/report-schedule.test.ts": 3,
  "test/evidence/rollup-commitments.test.ts": 3,
  "test/export/connection-limits.test.ts": 3,
  "test/export/otlp-failures.test.ts": 3,
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
