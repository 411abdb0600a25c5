/** The agent's own alerts: conditions -> state machine -> queued notifications -> receivers (docs/alerts.md). */
export { AgentAlerting, type AgentAlertingOptions, type AlertingView } from "./alerting.js";
export { AGENT_ALERT, type AlertInput, alertConditions } from "./conditions.js";
export { alertsDocument, firingAlerts } from "./document.js";
export { AlertStateMachine } from "./machine.js";
export { AlertOutbox } from "./outbox.js";
export * from "./receivers/index.js";
export type { AgentAlert, AlertCondition, AlertNotification } from "./types.js";
