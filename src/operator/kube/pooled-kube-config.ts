/**
 * A KubeConfig whose requests share keep-alive connections. client-node 1.4 builds a new
 * https.Agent for every request (applySecurityAuthentication / applyToFetchOptions), so every
 * API call paid a fresh TLS handshake on both ends: in a 1000-TFModel burst most of the operator's
 * CPU went to TLS set-up, and the apiserver paid the same again. Here the fresh agent is swapped
 * for a pooled one built from the same options (CA, client certificate, server name, ...), so a
 * credential change (a rotated client certificate) still gets a new agent; bearer tokens travel
 * in headers and need none.
 */
import { Agent } from 'node:https';
import { createHash } from 'node:crypto';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';

/** The agent options that decide how a connection is authenticated. */
const IDENTITY_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;

export class PooledKubeConfig extends KubeConfig {
  private readonly agents = new Map<string, Agent>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const agent = context.getAgent();
    if (agent instanceof Agent) context.setAgent(this.pooled(agent));
  }

  override async applyToFetchOptions(opts: Parameters<KubeConfig['applyToFetchOptions']>[0]): Promise<Awaited<ReturnType<KubeConfig['applyToFetchOptions']>>> {
    const init = await super.applyToFetchOptions(opts);
    const withAgent = init as { agent?: unknown };
    if (withAgent.agent instanceof Agent) withAgent.agent = this.pooled(withAgent.agent);
    return init;
  }

  /** Closes the pooled connections (graceful shutdown). */
  destroyAgents(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  private pooled(fresh: Agent): Agent {
    // Proxy agents (subclasses of https.Agent) keep client-node's own agent.
    if (fresh.constructor !== Agent || this.getCurrentCluster()?.proxyUrl) return fresh;
    const options = fresh.options as Record<string, unknown>;
    const key = identityKey(options);
    let agent = this.agents.get(key);
    if (!agent) {
      agent = new Agent({ ...options, keepAlive: true });
      this.agents.set(key, agent);
    }
    return agent;
  }
}

function identityKey(options: Record<string, unknown>): string {
  const hash = createHash('sha256');
  for (const name of IDENTITY_OPTIONS) {
    const value = options[name];
    const text = value === undefined ? '' : Buffer.isBuffer(value) ? value.toString('base64') : Array.isArray(value) ? value.map(String).join('\n') : String(value);
    hash.update(`${name}=${text}\0`);
  }
  return hash.digest('hex');
}
