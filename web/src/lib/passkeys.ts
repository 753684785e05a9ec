import {
  startAuthentication,
  startRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import { graphql } from '../gql';
import { request } from './api';

/**
 * The browser half of a passkey ceremony (@simplewebauthn/browser, bundled: nothing loads from elsewhere). The
 * server hands out options with a single-use challenge and verifies the answer; the page only passes JSON along.
 */

const StartPasskeyAuthentication = graphql(`
  mutation PasskeyAuthenticationOptions($input: StartPasskeyAuthenticationInput!) {
    startPasskeyAuthentication(input: $input) {
      __typename
      ... on PasskeyOptionsPayload {
        options
      }
      ... on Error {
        message
      }
      ... on ValidationError {
        fieldErrors {
          path
          message
        }
      }
    }
  }
`);

export class PasskeyCancelled extends Error {}

/** Words for what the browser's WebAuthn API refused (the person cancelled, or no passkey fits). */
function ceremonyError(error: unknown): Error {
  const name = error instanceof Error ? error.name : '';
  if (name === 'NotAllowedError' || name === 'AbortError') return new PasskeyCancelled('The passkey was not used (cancelled or timed out).');
  if (name === 'InvalidStateError') return new PasskeyCancelled('This authenticator already holds a passkey for this account.');
  return new PasskeyCancelled('This browser could not use a passkey here.');
}

export async function createPasskey(options: unknown) {
  try {
    return await startRegistration({ optionsJSON: options as PublicKeyCredentialCreationOptionsJSON });
  } catch (error) {
    throw ceremonyError(error);
  }
}

/**
 * An assertion of one of the account's passkeys: for a sign-in (its challengeId) or, signed in, a step-up.
 * Returns the assertion JSON, or a typed refusal from startPasskeyAuthentication.
 */
export async function assertPasskey(challengeId?: string) {
  const { startPasskeyAuthentication: started } = await request(StartPasskeyAuthentication, { input: challengeId ? { challengeId } : {} });
  if (started.__typename !== 'PasskeyOptionsPayload') return { refused: started } as const;
  try {
    return { assertion: await startAuthentication({ optionsJSON: started.options as PublicKeyCredentialRequestOptionsJSON }) } as const;
  } catch (error) {
    throw ceremonyError(error);
  }
}
