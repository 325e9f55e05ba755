import { z } from 'zod';
import { ConfigError, parseWith } from '../config/index.js';
import { photoFileName } from './photos.js';

const text = z.string().nullish();
const textList = z.array(z.string()).nullish();

/**
 * One Microsoft Graph user object as `GET /users` returns it, plus the names of the groups the user
 * belongs to (transitively). Graph sends `null` for empty attributes; unknown properties (extension
 * attributes, `onPremisesExtensionAttributes`, …) are kept so templates can use them.
 */
export const userSchema = z.looseObject({
  id: text,
  mail: text,
  userPrincipalName: text,
  displayName: text,
  givenName: text,
  surname: text,
  jobTitle: text,
  department: text,
  companyName: text,
  mobilePhone: text,
  businessPhones: textList,
  faxNumber: text,
  officeLocation: text,
  streetAddress: text,
  city: text,
  postalCode: text,
  state: text,
  country: text,
  proxyAddresses: textList,
  groups: z.array(z.string().min(1)).default([]),
  /** The stored photo the directory sync wrote for this user (`<id>-<hash>.jpg`); absent: none. */
  photo: z
    .string()
    .regex(photoFileName, 'expected a photo file name written by the directory sync')
    .nullish(),
});

export type DirectoryUser = z.infer<typeof userSchema>;

const usersFileSchema = z.array(userSchema);

/** Looks users up by any of their addresses: mail, userPrincipalName and SMTP proxy addresses. */
export class UserDirectory {
  readonly users: readonly DirectoryUser[];
  private readonly byAddress = new Map<string, DirectoryUser>();

  constructor(users: readonly DirectoryUser[], file: string) {
    this.users = users;
    users.forEach((user, i) => {
      for (const address of addressesOf(user)) {
        const owner = this.byAddress.get(address);
        if (owner && owner !== user)
          throw new ConfigError(
            file,
            `[${i}]`,
            `address ${address} also belongs to ${owner.displayName ?? owner.id ?? 'another user'}`,
          );
        this.byAddress.set(address, user);
      }
    });
  }

  find(address: string): DirectoryUser | undefined {
    return this.byAddress.get(address.toLowerCase());
  }
}

function addressesOf(user: DirectoryUser): Set<string> {
  const out = new Set<string>();
  if (user.mail) out.add(user.mail.toLowerCase());
  if (user.userPrincipalName?.includes('@')) out.add(user.userPrincipalName.toLowerCase());
  for (const proxy of user.proxyAddresses ?? []) {
    // Only SMTP proxies are mail addresses; X500:, SIP: and friends are not.
    const match = /^smtp:([^\n\r\u2028\u2029]+)$/i.exec(proxy);
    // An @ with text on both sides, found without a pattern that backtracks on a run of @.
    if (match?.[1]?.slice(1, -1).includes('@')) out.add(match[1].toLowerCase());
  }
  return out;
}

export function parseUsers(value: unknown, file: string): UserDirectory {
  return new UserDirectory(parseWith(usersFileSchema, value, file), file);
}
