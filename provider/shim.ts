import type * as pulumi from "@pulumi/pulumi";

type Props = Record<string, unknown>;

/**
 * The thin provider that Pulumi serializes into every resource's `__provider` (docs/architecture.md#data-path).
 *
 * Each method resolves the implementation module at call time, inside its own body, in the process
 * that runs it (the dynamic-provider host, whose cwd is the program directory). So the serialized
 * closure captures one string (the module name) and nothing else: no zod schema, no pwsh pool, no
 * `Set`/`Date`/`Map`, which Pulumi's function serializer cannot carry or breaks (docs/architecture.md#pulumi-limits). The string is about 2.5 KB whatever the implementation
 * (the serializer wraps each function in ~200 B of `with` boilerplate, so six methods cannot get much
 * smaller), and upgrading the package fixes existing resources without re-creating them.
 *
 * `implModule` must be resolvable from the program directory and must be built JS (the host has no
 * ts-node): a package path such as `"pulumi-rds-licensing/resources/licenseServer/provider"` (mapped by
 * `exports` to bin/provider/...), or an absolute path of a .js file (test fixtures). The module must
 * export `provider`, an object with the dynamic-provider methods; they are called with `this` bound to
 * that object, and every error they throw (including init-failed errors carrying `id`/`properties`)
 * reaches the host unchanged.
 *
 * Missing methods behave as the host behaves when a provider lacks them (check passes inputs through,
 * diff answers DIFF_UNKNOWN, read echoes the state, delete does nothing), except `update`: the host's
 * default silently drops every output, so a missing `update` is an error here.
 *
 * Do not make the methods call module-level helpers: those would be serialized by value, with
 * everything they reference. Everything the methods need is inside them or in `implModule`.
 */
export function lazyProvider(implModule: string): pulumi.dynamic.ResourceProvider {
  // One object per module: the SDK caches a provider's serialization by object identity, so every
  // resource of a type after the first reuses it instead of serializing the closure again (about 0.1 s of
  // CPU each: the serializer reads and normalizes package.json files for every module it names).
  const known = shims.get(implModule);
  if (known) return known;
  const shim = newShim(implModule);
  shims.set(implModule, shim);
  return shim;
}

/** The shims made so far, by module (only lazyProvider reads it: the methods never capture it). */
const shims = new Map<string, pulumi.dynamic.ResourceProvider>();

function newShim(implModule: string): pulumi.dynamic.ResourceProvider {
  // Serialized with the methods: it captures implModule and nothing else.
  // A require() at call time, never an import: an import would be serialized by value with the closure.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (): pulumi.dynamic.ResourceProvider => require(implModule).provider;
  return {
    async check(olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
      const impl = load();
      return impl.check ? impl.check(olds, news) : { inputs: news };
    },
    async diff(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
      const impl = load();
      return impl.diff ? impl.diff(id, olds, news) : {};
    },
    async create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
      return load().create(inputs);
    },
    async read(id: string, props?: Props): Promise<pulumi.dynamic.ReadResult> {
      const impl = load();
      return impl.read ? impl.read(id, props) : { id, props };
    },
    async update(id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
      const impl = load();
      if (!impl.update) throw new Error(`${implModule} has no update(): the host would drop every output`);
      return impl.update(id, olds, news);
    },
    async delete(id: string, props: Props): Promise<void> {
      const impl = load();
      if (impl.delete) await impl.delete(id, props);
    },
  };
}
