import type { ManagementClient } from './management-client.js';
import type { ImportPlan } from './plan.js';

export interface AppliedStep {
  label: string;
  ok: boolean;
  error?: string;
  /** A generated client secret, printed once (the service keeps only its hash). */
  generatedSecret?: { client_id: string; client_secret: string };
}

/**
 * Runs the plan's steps in order against the target's Management API. A step that fails is
 * reported and the others go on; each step is one API write, and a second run plans only what
 * is still missing.
 */
export async function applyPlan(api: ManagementClient, plan: ImportPlan): Promise<AppliedStep[]> {
  const clientIds = new Map<string, string>();
  const existingClients = await api.getAll<{ client_id: string; name: string }>('clients', 'clients');
  for (const c of existingClients) {
    clientIds.set(c.client_id, c.client_id);
    clientIds.set(c.name, c.client_id);
  }
  const roleIds = new Map<string, string>();
  const results: AppliedStep[] = [];
  const resolve = (ref: string) => clientIds.get(ref);
  for (const step of plan.steps) {
    const result: AppliedStep = { label: step.label, ok: true };
    try {
      switch (step.kind) {
        case 'create_resource_server':
          await api.post('resource-servers', step.body);
          break;
        case 'create_client': {
          const created = (await api.post('clients', step.body)) as { client_id: string; client_secret?: string };
          clientIds.set(step.ref.name, created.client_id);
          if (step.ref.client_id) clientIds.set(step.ref.client_id, created.client_id);
          if (created.client_secret && !step.body.client_secret) result.generatedSecret = { client_id: created.client_id, client_secret: created.client_secret };
          break;
        }
        case 'create_connection':
          await api.post('connections', { ...step.body, enabled_clients: step.clients.map(resolve).filter(Boolean) });
          break;
        case 'enable_clients': {
          const ids = step.clients.map(resolve).filter((id): id is string => !!id);
          await api.patch(`connections/${step.connectionId}`, { enabled_clients: [...new Set([...step.current, ...ids])] });
          break;
        }
        case 'create_client_grant': {
          const clientId = resolve(step.client);
          if (!clientId) throw new Error('its client was not created');
          await api.post('client-grants', { client_id: clientId, audience: step.audience, scope: step.scope });
          break;
        }
        case 'create_role': {
          const role = (await api.post('roles', { name: step.name, ...(step.description ? { description: step.description } : {}) })) as { id: string };
          roleIds.set(step.name, role.id);
          break;
        }
        case 'add_role_permissions': {
          let id = roleIds.get(step.roleName);
          if (!id) {
            const roles = await api.getAll<{ id: string; name: string }>('roles', 'roles');
            id = roles.find((r) => r.name === step.roleName)?.id;
          }
          if (!id) throw new Error('its role was not created');
          for (let i = 0; i < step.permissions.length; i += 100) {
            await api.post(`roles/${id}/permissions`, { permissions: step.permissions.slice(i, i + 100) });
          }
          break;
        }
      }
    } catch (err) {
      result.ok = false;
      result.error = err instanceof Error ? err.message : String(err);
    }
    results.push(result);
  }
  return results;
}
