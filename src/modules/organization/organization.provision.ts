import type { AppDeps } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import { seedCategories } from '../category/category.service.ts';

// Its own file because both createOrganization and the installation's bootstrap (auth.service) provision, and
// organization.service depends on auth.service (principalsChanged): here the two need not import each other.

/** What every new organization starts with: its first data key and the seven default categories. */
export async function provisionOrganization(deps: AppDeps, tx: TxClient, organizationId: string): Promise<void> {
  await deps.keyring.create(tx, organizationId, 1);
  await seedCategories(tx, organizationId);
}
