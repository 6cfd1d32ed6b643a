/**
 * The chart's agent image (`vigil/agent`, deploy/helm/vigil) as a real process on the tier's node agent
 * (`--run-image`): Vigil's own CLI from this checkout, in the pod's identity (its ServiceAccount token, ca.crt and
 * namespace in VIGIL_SERVICEACCOUNT_ROOT; KUBERNETES_SERVICE_HOST set, so the agent uses them). The node agent
 * mounts no volumes, so the command reads the settings ConfigMap the chart mounts at /etc/vigil with the pod's own
 * token (the ClusterRole lets it get configmaps), as the kubelet would mount it, and keeps its state beside the
 * token; the endpoints listen on the pod's IP (both replicas share the namespace's network).
 */
export const AGENT_IMAGE = 'vigil/agent';
/** The settings ConfigMap of the release `vigil` (scripts/renderManifests.ts RELEASE). */
const SETTINGS_CONFIGMAP = 'vigil-settings';

export const AGENT_COMMAND = [
  'SA=$VIGIL_SERVICEACCOUNT_ROOT; D=$(dirname "$SA");',
  'curl -sSf --cacert "$SA/ca.crt" -H "Authorization: Bearer $(cat "$SA/token")"',
  `"https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/$POD_NAMESPACE/configmaps/${SETTINGS_CONFIGMAP}" > "$D/settings.json" &&`,
  `node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).data["settings.yaml"])' "$D/settings.json" > "$D/settings.yaml" &&`,
  'exec node --import tsx src/cli/main.ts agent --config "$D/settings.yaml" --state-dir "$D/state" --http-host "$POD_IP"',
].join(' ');
