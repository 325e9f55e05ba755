import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import forge from 'node-forge';

/** PEM certificate + key. */
export interface CertPair {
  cert: string;
  key: string;
}

export interface DevPki {
  ca: CertPair;
  /** The SMTP front's server certificate (what EXO validates: our smart host name). */
  front: CertPair;
  /** The client certificate we present on the return leg (the tenant's inbound connector name). */
  client: CertPair;
  /** The Exchange Online stand-in's server certificate. */
  standin: CertPair;
}

export interface IssueOptions {
  commonName: string;
  altNames?: string[];
  usage: 'server' | 'client' | 'both';
  days?: number;
  /** Start of validity (default: an hour ago); with `days` in the past, an expired certificate for tests. */
  validFrom?: Date;
}

/** RSA keys come from node:crypto (fast, native); forge only builds and signs the X.509 structures. */
function newKeyPair(): {
  privatePem: string;
  forgePublic: forge.pki.PublicKey;
  forgePrivate: forge.pki.rsa.PrivateKey;
} {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgePrivate = forge.pki.privateKeyFromPem(privatePem);
  const forgePublic = forge.pki.setRsaPublicKey(forgePrivate.n, forgePrivate.e);
  return { privatePem, forgePublic, forgePrivate };
}

function serial(): string {
  // Positive, 16 bytes: the top bit cleared so DER does not read it as negative.
  const bytes = crypto.randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number, from?: Date): void {
  const start = from ?? new Date(Date.now() - 60 * 60 * 1000);
  cert.validity.notBefore = start;
  cert.validity.notAfter = new Date((from ?? new Date()).getTime() + days * 24 * 60 * 60 * 1000);
}

/** Creates a self-signed development CA. */
export function createCa(commonName = 'sigrelay development CA'): CertPair {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = serial();
  validity(cert, 3650);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.forgePrivate, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privatePem };
}

/** Issues a leaf certificate signed by `ca`. IP addresses in altNames become IP SANs. */
export function issueCertificate(ca: CertPair, options: IssueOptions): CertPair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = serial();
  validity(cert, options.days ?? 825, options.validFrom);
  cert.setSubject([{ name: 'commonName', value: options.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const names = [options.commonName, ...(options.altNames ?? [])];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    {
      name: 'extKeyUsage',
      serverAuth: options.usage !== 'client',
      clientAuth: options.usage !== 'server',
    },
    {
      name: 'subjectAltName',
      altNames: [...new Set(names)].map((n) =>
        /^[\d.]+$|:/.test(n) ? { type: 7, ip: n } : { type: 2, value: n },
      ),
    },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privatePem };
}

/** Builds a whole development PKI in memory (for tests). */
export function createDevPki(names: { front?: string; client?: string; standin?: string } = {}): DevPki {
  const ca = createCa();
  return {
    ca,
    front: issueCertificate(ca, {
      commonName: names.front ?? 'sigrelay.local',
      altNames: ['localhost', '127.0.0.1', '::1'],
      usage: 'server',
    }),
    client: issueCertificate(ca, { commonName: names.client ?? 'relay.contoso.com', usage: 'client' }),
    standin: issueCertificate(ca, {
      commonName: names.standin ?? 'contoso-com.mail.protection.outlook.com',
      altNames: ['localhost', '127.0.0.1', '::1'],
      usage: 'server',
    }),
  };
}

export interface DevPkiFiles {
  dir: string;
  caCert: string;
  frontCert: string;
  frontKey: string;
  clientCert: string;
  clientKey: string;
  standinCert: string;
  standinKey: string;
}

export function devPkiFiles(dir: string): DevPkiFiles {
  return {
    dir,
    caCert: path.join(dir, 'ca.crt'),
    frontCert: path.join(dir, 'front.crt'),
    frontKey: path.join(dir, 'front.key'),
    clientCert: path.join(dir, 'client.crt'),
    clientKey: path.join(dir, 'client.key'),
    standinCert: path.join(dir, 'standin.crt'),
    standinKey: path.join(dir, 'standin.key'),
  };
}

/** Creates the development PKI under `dir` on first use; later calls reuse the files. */
export async function ensureDevPki(dir: string): Promise<DevPkiFiles> {
  const files = devPkiFiles(dir);
  try {
    const { dir: _dir, ...paths } = files;
    await Promise.all(Object.values(paths).map((f: string) => fs.access(f)));
    return files;
  } catch {
    // First run (or a partial earlier run): create everything afresh.
  }
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const pki = createDevPki();
  const write = (file: string, text: string, mode: number) => fs.writeFile(file, text, { mode });
  await Promise.all([
    write(files.caCert, pki.ca.cert, 0o644),
    write(path.join(dir, 'ca.key'), pki.ca.key, 0o600),
    write(files.frontCert, pki.front.cert, 0o644),
    write(files.frontKey, pki.front.key, 0o600),
    write(files.clientCert, pki.client.cert, 0o644),
    write(files.clientKey, pki.client.key, 0o600),
    write(files.standinCert, pki.standin.cert, 0o644),
    write(files.standinKey, pki.standin.key, 0o600),
  ]);
  return files;
}
