import { GraphError, type GraphClient } from './graph-client.js';
import type { WritableConfigFiles } from '../sources/config-files.js';

/** The user properties templates and matching use; `$select` keeps pages small and fast. */
export const userProperties = [
  'id',
  'mail',
  'userPrincipalName',
  'displayName',
  'givenName',
  'surname',
  'jobTitle',
  'department',
  'companyName',
  'mobilePhone',
  'businessPhones',
  'faxNumber',
  'officeLocation',
  'streetAddress',
  'city',
  'postalCode',
  'state',
  'country',
  'proxyAddresses',
];

/** Where the sync keeps its delta link: beside the config, outside the files the store watches. */
export const syncStateFile = '.sync/directory.json';

type GraphUser = Record<string, unknown> & { id: string; '@removed'?: unknown };

interface SyncState {
  deltaLink: string;
}

export interface SyncOptions {
  graph: GraphClient;
  target: WritableConfigFiles;
  /** Group names to resolve into each user's `groups`; default: every `group:<name>` in rules.json. */
  groups?: string[];
  /** Ignore the saved delta link and list every user again. */
  full?: boolean;
  /** User properties to `$select` beyond `userProperties` (the tenant's `directory.attributes`). */
  attributes?: readonly string[];
  /** Stored photo file per user id, given every user id of the new snapshot (the photo sync). */
  photos?: (userIds: string[]) => Promise<ReadonlyMap<string, string>>;
}

export interface SyncResult {
  mode: 'full' | 'delta';
  users: number;
  changed: number;
  removed: number;
  /** Group names resolved (Entra groups found for them). */
  groups: number;
  /** Group names from the rules that no Entra group has (a typo in rules.json, or a renamed group). */
  missingGroups: string[];
  /** Users with a stored photo (photo sync on), else undefined. */
  photos?: number;
  written: boolean;
}

/**
 * Refreshes the `users.json` snapshot from Entra ID. The first run (or a `full` one, or one whose
 * delta link Graph has expired) lists `/users`; later runs apply `/users/delta` to the previous
 * snapshot. Group membership is re-read every run, since user deltas do not report it. The snapshot
 * is only rewritten when it changed, so the signing side reloads only on real changes.
 */
export async function syncDirectory(options: SyncOptions): Promise<SyncResult> {
  const { graph, target } = options;
  const select = [...new Set([...userProperties, ...(options.attributes ?? [])])].join(',');
  const state = options.full ? undefined : await readState(target);
  const previous = state ? await readSnapshot(target) : undefined;

  let mode: SyncResult['mode'] = 'full';
  let users: Map<string, GraphUser>;
  let deltaLink: string;
  let changed = 0;
  let removed = 0;
  const delta = state && previous ? await applyDelta(graph, state.deltaLink, previous) : undefined;
  if (delta) {
    ({ users, deltaLink, changed, removed } = delta);
    mode = 'delta';
  } else {
    // The delta token is taken before listing, so a change made during the listing is replayed next run.
    deltaLink = await latestDeltaLink(graph, select);
    users = await listUsers(graph, select);
    changed = users.size;
  }

  const groupNames = options.groups ?? (await groupsInRules(target));
  const membership = await groupMembership(graph, groupNames);
  const photos = options.photos ? await options.photos([...users.keys()]) : undefined;
  const snapshot = [...users.values()]
    .map((user): GraphUser => ({
      ...user,
      groups: membership.groupsOf(user.id),
      ...(photos?.has(user.id) && { photo: photos.get(user.id) }),
    }))
    .sort((a, b) => sortKey(a).localeCompare(sortKey(b)));

  const json = `${JSON.stringify(snapshot, null, 2)}\n`;
  const current = await target.read('users.json');
  const written = current?.toString('utf8') !== json;
  if (written) await target.write('users.json', json);
  await target.write(syncStateFile, `${JSON.stringify({ deltaLink } satisfies SyncState)}\n`);
  return {
    mode,
    users: snapshot.length,
    changed,
    removed,
    groups: groupNames.length - membership.missing.length,
    missingGroups: membership.missing,
    ...(photos && { photos: photos.size }),
    written,
  };
}

/** A stable order keeps unchanged snapshots byte-identical, so they are not rewritten. */
function sortKey(user: GraphUser): string {
  return typeof user.userPrincipalName === 'string' ? user.userPrincipalName : user.id;
}

async function listUsers(graph: GraphClient, select: string): Promise<Map<string, GraphUser>> {
  const users = new Map<string, GraphUser>();
  for await (const page of graph.pages<GraphUser>(`/users?$select=${select}&$top=999`)) {
    for (const user of page.value) users.set(user.id, user);
  }
  return users;
}

async function latestDeltaLink(graph: GraphClient, select: string): Promise<string> {
  let link: string | undefined;
  for await (const page of graph.pages<GraphUser>(`/users/delta?$select=${select}&$deltatoken=latest`))
    link = page['@odata.deltaLink'] ?? link;
  if (!link) throw new GraphError(0, 'NoDeltaLink', '/users/delta returned no @odata.deltaLink');
  return link;
}

/** Applies a delta round to the previous snapshot; undefined when Graph says the token expired. */
async function applyDelta(
  graph: GraphClient,
  link: string,
  previous: Map<string, GraphUser>,
): Promise<
  { users: Map<string, GraphUser>; deltaLink: string; changed: number; removed: number } | undefined
> {
  const users = new Map(previous);
  let deltaLink: string | undefined;
  let changed = 0;
  let removed = 0;
  try {
    for await (const page of graph.pages<GraphUser>(link)) {
      for (const item of page.value) {
        if (item['@removed'] !== undefined) {
          if (users.delete(item.id)) removed++;
          continue;
        }
        // Delta items carry the changed properties; unchanged ones keep their previous values.
        const { '@removed': _removed, ...properties } = item;
        users.set(item.id, { ...users.get(item.id), ...properties });
        changed++;
      }
      deltaLink = page['@odata.deltaLink'] ?? deltaLink;
    }
  } catch (err) {
    if (err instanceof GraphError && (err.status === 410 || err.code === 'syncStateNotFound'))
      return undefined;
    throw err;
  }
  if (!deltaLink) throw new GraphError(0, 'NoDeltaLink', 'the delta round ended without @odata.deltaLink');
  return { users, deltaLink, changed, removed };
}

async function groupMembership(
  graph: GraphClient,
  names: readonly string[],
): Promise<{ groupsOf(userId: string): string[]; missing: string[] }> {
  const byUser = new Map<string, string[]>();
  const missing: string[] = [];
  for (const name of names) {
    const filter = encodeURIComponent(`displayName eq '${name.replace(/'/g, "''")}'`);
    const groups = await graph.get<{ value: { id: string }[] }>(
      `/groups?$filter=${filter}&$select=id,displayName`,
    );
    if (groups.value.length === 0) missing.push(name);
    for (const group of groups.value) {
      const members = `/groups/${encodeURIComponent(group.id)}/transitiveMembers/microsoft.graph.user?$select=id&$top=999`;
      for await (const page of graph.pages<{ id: string }>(members)) {
        for (const member of page.value) {
          const list = byUser.get(member.id) ?? [];
          if (!list.includes(name)) list.push(name);
          byUser.set(member.id, list);
        }
      }
    }
  }
  return { groupsOf: (id) => byUser.get(id) ?? [], missing };
}

async function groupsInRules(target: WritableConfigFiles): Promise<string[]> {
  const content = await target.read('rules.json');
  if (!content) return [];
  const names = new Set<string>();
  // Only the group names are wanted here; rules.json is validated by the content loader, not the sync.
  for (const match of content.toString('utf8').matchAll(/"group:([^"]+)"/g))
    if (match[1]) names.add(match[1]);
  return [...names].sort();
}

async function readState(target: WritableConfigFiles): Promise<SyncState | undefined> {
  const content = await target.read(syncStateFile);
  if (!content) return undefined;
  const state = JSON.parse(content.toString('utf8')) as Partial<SyncState>;
  return typeof state.deltaLink === 'string' ? { deltaLink: state.deltaLink } : undefined;
}

async function readSnapshot(target: WritableConfigFiles): Promise<Map<string, GraphUser> | undefined> {
  const content = await target.read('users.json');
  if (!content) return undefined;
  const list = JSON.parse(content.toString('utf8')) as GraphUser[];
  if (!Array.isArray(list) || list.some((u) => typeof u.id !== 'string')) return undefined;
  return new Map(list.map(({ groups: _groups, photo: _photo, ...user }) => [user.id, user as GraphUser]));
}
