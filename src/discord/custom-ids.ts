// Buttons, menus and modals carry their state in the custom id (≤ 100 characters), so a click
// works after a restart. Only what cannot fit (a ban reason) goes to PendingActions.

export type ComponentAction =
  | { kind: 'profile'; customerId: number }
  | { kind: 'orders'; customerId: number; page: number }
  | { kind: 'notes'; customerId: number; page: number }
  | { kind: 'order'; customerId: number }
  | { kind: 'add-note'; customerId: number }
  | { kind: 'ban-customer'; customerId: number }
  | { kind: 'ban-confirm'; token: string }
  | { kind: 'ban-cancel'; token: string }
  | { kind: 'bans-page'; token: string; page: number }
  | { kind: 'pick-customer' }
  | { kind: 'roles-view'; customerId: number }
  | { kind: 'role-resync'; customerId: number }
  | { kind: 'erase-confirm'; token: string }
  | { kind: 'erase-cancel'; token: string }
  | { kind: 'rule-take-back'; token: string }
  | { kind: 'rule-keep'; token: string };

export type ModalAction = { kind: 'note-modal'; customerId: number } | { kind: 'ban-modal'; customerId: number };

export const customId = {
  profile: (customerId: number) => `c:profile:${customerId}`,
  orders: (customerId: number, page: number) => `c:orders:${customerId}:${page}`,
  notes: (customerId: number, page: number) => `c:notes:${customerId}:${page}`,
  order: (customerId: number) => `c:order:${customerId}`,
  addNote: (customerId: number) => `c:addnote:${customerId}`,
  banCustomer: (customerId: number) => `c:ban:${customerId}`,
  banConfirm: (token: string) => `b:ok:${token}`,
  banCancel: (token: string) => `b:no:${token}`,
  bansPage: (token: string, page: number) => `b:page:${token}:${page}`,
  pickCustomer: () => 'c:pick',
  rolesView: (customerId: number) => `r:view:${customerId}`,
  roleResync: (customerId: number) => `r:sync:${customerId}`,
  eraseConfirm: (token: string) => `g:erase:${token}`,
  eraseCancel: (token: string) => `g:keep:${token}`,
  ruleTakeBack: (token: string) => `t:ok:${token}`,
  ruleKeep: (token: string) => `t:no:${token}`,
  noteModal: (customerId: number) => `m:note:${customerId}`,
  banModal: (customerId: number) => `m:ban:${customerId}`,
};

function int(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,15}$/.test(text)) return undefined;
  return Number(text);
}

/** Parses a component custom id; undefined for anything this bot did not make. */
export function parseComponentId(id: string): ComponentAction | undefined {
  const [ns, verb, a, b] = id.split(':');
  const customerId = int(a);
  if (ns === 'c') {
    if (verb === 'pick') return { kind: 'pick-customer' };
    if (customerId === undefined) return undefined;
    const page = int(b) ?? 0;
    switch (verb) {
      case 'profile':
        return { kind: 'profile', customerId };
      case 'orders':
        return { kind: 'orders', customerId, page };
      case 'notes':
        return { kind: 'notes', customerId, page };
      case 'order':
        return { kind: 'order', customerId };
      case 'addnote':
        return { kind: 'add-note', customerId };
      case 'ban':
        return { kind: 'ban-customer', customerId };
    }
    return undefined;
  }
  if (ns === 'r' && customerId !== undefined) {
    if (verb === 'view') return { kind: 'roles-view', customerId };
    if (verb === 'sync') return { kind: 'role-resync', customerId };
    return undefined;
  }
  if (ns === 'g' && a) {
    if (verb === 'erase') return { kind: 'erase-confirm', token: a };
    if (verb === 'keep') return { kind: 'erase-cancel', token: a };
    return undefined;
  }
  if (ns === 't' && a) {
    if (verb === 'ok') return { kind: 'rule-take-back', token: a };
    if (verb === 'no') return { kind: 'rule-keep', token: a };
    return undefined;
  }
  if (ns === 'b' && a) {
    if (verb === 'ok') return { kind: 'ban-confirm', token: a };
    if (verb === 'no') return { kind: 'ban-cancel', token: a };
    if (verb === 'page') return { kind: 'bans-page', token: a, page: int(b) ?? 0 };
  }
  return undefined;
}

export function parseModalId(id: string): ModalAction | undefined {
  const [ns, verb, a] = id.split(':');
  const customerId = int(a);
  if (ns !== 'm' || customerId === undefined) return undefined;
  if (verb === 'note') return { kind: 'note-modal', customerId };
  if (verb === 'ban') return { kind: 'ban-modal', customerId };
  return undefined;
}
