export { type CronPlan, nextCronFire, parseCron } from "./cron.js";
export { type FirePlan, firePlanFor, firePlansFor, spreadOffsets } from "./plan.js";
export {
  type Coverage,
  type Execute,
  type ProbeRunStats,
  type ReconcileOutcome,
  type RunDisposition,
  Scheduler,
  type SchedulerOptions,
} from "./scheduler.js";
