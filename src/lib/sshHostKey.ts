import { Client } from 'ssh2';
import { sshFingerprint } from './sshKey.ts';

/** An OpenSSH SHA256 fingerprint: `SHA256:` and the unpadded base64 of 32 bytes. */
export const HOST_KEY_FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** The target could not be reached or spoke no SSH; the reason is for logs, never for clients. */
export class HostKeyProbeError extends Error {
  override name = 'HostKeyProbeError';
}

/**
 * Connects to an SSH server just far enough to read its host key (the key exchange), then drops the connection:
 * nothing is authenticated and nothing is sent. Used by pinAssetHostKey ("trust on first use").
 */
export function probeHostKey(host: string, port: number, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let seen: string | null = null;
    let settled = false;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      if (seen) resolve(seen);
      else reject(error ?? new HostKeyProbeError('no host key received'));
    };
    const timer = setTimeout(() => finish(new HostKeyProbeError('timed out')), timeoutMs);
    client.on('error', (e) => finish(new HostKeyProbeError(e.message)));
    client.on('close', () => finish(null));
    try {
      client.connect({
      host,
      port,
      // Never used: the handshake ends at the host key, before authentication.
      username: 'vaultgate-probe',
      readyTimeout: timeoutMs,
      // Refusing the key ends the handshake right after it was received: the probe never authenticates.
      hostVerifier: (key: Buffer) => {
        seen = sshFingerprint(key);
        setImmediate(() => finish(null));
        return false;
      },
      });
    } catch (error) {
      finish(new HostKeyProbeError((error as Error).message));
    }
  });
}
