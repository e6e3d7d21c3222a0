// Words for the permission tiers and decisions, shared by the permissions page and the admin console.

const TIER_WORDS = {
  platform: "the platform",
  organization: "the organization",
  org: "the organization",
  group: "a group",
  user: "a setting for this person",
  preference: "their own preference",
  agent: "the agent itself",
  default: "the default",
};

export function tierLabel(source) {
  return TIER_WORDS[source] || source;
}

export function decisionText(decision) {
  const reason = (decision.reason || "").trim();
  const from = `(from ${tierLabel(decision.source)})`;
  return reason ? `${reason.replace(/\.?$/, ".")} ${from}` : from;
}
