import { parseArgs } from 'node:util';
import { recordExistingEntries } from '../db/existing-logs.ts';
import { openDb } from '../db/client.ts';
import { databasePath } from '../config.ts';
import { municipalityKinds } from '../domain/municipality.ts';
import { DomainError, ValidationError } from '../engine/errors.ts';
import { translator } from '../i18n/index.ts';
import { changeMunicipality, createMunicipality, listMunicipalityRows, municipalityByIdOrName } from '../municipalities/municipality-admin.ts';
import { municipalityProblemText } from '../municipalities/problem-messages.ts';

const t = translator('en');
const kindList = municipalityKinds.map((kind) => `${kind} (${t(`admin.municipalityKind.${kind}`).toLowerCase()})`).join(', ');

const usage = `Usage: npm run municipalities -- <command> [options]

Commands:
  add --name "N" --kind K --population P
                         add a municipality (a real installation has none until you do)
  change --municipality ID|NAME [--name "N"] [--kind K] [--population P]
                         change its name, kind or population; its users and applications stay with it
  list                   id, name, kind, population, users and applications, tab-separated

Kinds: ${kindList}.
Names are unique however they are capitalised. Municipalities are never deleted: applications
and their history refer to them. Applicants are then added with
  npm run users -- add --login L --name "N" --role applicant --municipality ID|NAME
DATABASE_PATH chooses the database (default data/isu-ib.sqlite).`;

class UsageError extends Error {}

function describe(error: unknown): string {
  if (error instanceof ValidationError) return error.problems.map((p) => `--${p.field}: ${municipalityProblemText(t, 'en', p)}`).join('\n');
  if (error instanceof DomainError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function main(argv: string[]): number {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      municipality: { type: 'string' },
      name: { type: 'string' },
      kind: { type: 'string' },
      population: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(usage);
    return command || values.help ? 0 : 2;
  }
  if (!['add', 'change', 'list'].includes(command)) throw new UsageError(`unknown command ${command}`);
  const db = recordExistingEntries(openDb({ path: databasePath() }));
  try {
    switch (command) {
      case 'add': {
        if (values.name === undefined || values.kind === undefined || values.population === undefined) throw new UsageError('add needs --name, --kind and --population');
        const created = createMunicipality(db, values);
        console.log(`created municipality ${created.id}: ${created.name} (${created.kind}, population ${created.population})`);
        return 0;
      }
      case 'change': {
        if (!values.municipality) throw new UsageError('change needs --municipality (its id or name)');
        const current = municipalityByIdOrName(db, values.municipality);
        const changed = changeMunicipality(db, current.id, {
          name: values.name ?? current.name,
          kind: values.kind ?? current.kind,
          population: values.population ?? String(current.population),
        });
        console.log(`changed municipality ${changed.id}: ${changed.name} (${changed.kind}, population ${changed.population})`);
        return 0;
      }
      default: {
        for (const row of listMunicipalityRows(db)) console.log([row.id, row.name, row.kind, row.population, row.users, row.applications].join('\t'));
        return 0;
      }
    }
  } finally {
    db.$client.close();
  }
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
    console.error(`${error.message}\n\n${usage}`);
    process.exitCode = 2;
  } else {
    console.error(`error: ${describe(error)}`);
    process.exitCode = 1;
  }
}
