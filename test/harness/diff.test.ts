/**
 * Unit tests of the one comparator (provider/diff.ts).
 * What is real: the comparator. What stands in: nothing (pure function; fast-check generates the data).
 */
import fc from "fast-check";
import { compare, containsUnknown, sameValue, UNKNOWN, type DiffSpec, type FieldRule } from "../../provider/diff";

const FIELDS = ["host", "mode", "servers", "quantity", "contact"] as const;

/** JSON values that never contain the sentinel. */
const json = fc.jsonValue({ maxDepth: 3 }).filter((v) => !containsUnknown(v));
const rule: fc.Arbitrary<FieldRule> = fc.record(
  {
    replace: fc.boolean(),
    normalize: fc.constantFrom<FieldRule["normalize"]>(undefined, "caseInsensitive", "unordered", ["caseInsensitive", "unordered"]),
    carried: fc.boolean(),
  },
  { requiredKeys: [] },
);
const spec: fc.Arbitrary<DiffSpec> = fc.dictionary(fc.constantFrom(...FIELDS), rule, { minKeys: 1 });
const record = fc.dictionary(fc.constantFrom(...FIELDS, "__provider", "computed"), json);

/** Replaces the value at a random position (the whole value, or something inside it) with the sentinel. */
function injectUnknown(value: unknown, pick: number): unknown {
  const slots: ((v: unknown) => unknown)[] = [() => UNKNOWN];
  const walk = (v: unknown, rebuild: (inner: unknown) => unknown) => {
    if (Array.isArray(v)) {
      v.forEach((el, i) => {
        const at = (inner: unknown) => rebuild(v.map((x, j) => (j === i ? inner : x)));
        slots.push(() => at(UNKNOWN));
        walk(el, at);
      });
    } else if (v !== null && typeof v === "object") {
      for (const k of Object.keys(v)) {
        const at = (inner: unknown) => rebuild({ ...(v as object), [k]: inner });
        slots.push(() => at(UNKNOWN));
        walk((v as Record<string, unknown>)[k], at);
      }
    }
  };
  walk(value, (inner) => inner);
  return slots[pick % slots.length](value);
}

describe("compare: properties", () => {
  test("a record compared with itself (or a deep copy) has no changes, whatever the spec", () => {
    fc.assert(
      fc.property(spec, record, (s, x) => {
        const same = compare(s, x, x);
        const copy = compare(s, x, structuredClone(x));
        for (const c of [same, copy]) {
          expect(c.result).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
          expect(c.diffs).toEqual([]);
        }
      }),
    );
  });

  test("differences only in update fields never replace", () => {
    fc.assert(
      fc.property(spec, record, fc.dictionary(fc.constantFrom(...FIELDS), json), (s, desired, changes) => {
        const actual = { ...desired };
        for (const [k, v] of Object.entries(changes)) if (!s[k]?.replace) actual[k] = v;
        const c = compare(s, desired, actual);
        expect(c.replaces).toEqual([]);
        expect(c.result.replaces).toEqual([]);
        for (const f of c.diffs) expect(Object.keys(changes)).toContain(f);
      }),
    );
  });

  test("a known difference in a replace field always replaces", () => {
    fc.assert(
      fc.property(spec, record, json, (s, desired, other) => {
        const field = Object.keys(s).find((k) => s[k].replace && !s[k].carried);
        fc.pre(field !== undefined && !sameValue(desired[field!], other, s[field!].normalize));
        const c = compare(s, desired, { ...desired, [field!]: other });
        expect(c.result.changes).toBe(true);
        expect(c.replaces).toEqual([field]);
        expect(c.result.replaces).toEqual([field]);
      }),
    );
  });

  test("an unknown anywhere in a field means 'may change' and never replaces on its own", () => {
    fc.assert(
      fc.property(spec, record, fc.constantFrom(...FIELDS), fc.nat(), (s, actual, field, pick) => {
        fc.pre(field in s);
        const desired = { ...actual, [field]: injectUnknown(actual[field] ?? null, pick) };
        const c = compare(s, desired, actual);
        expect(c.result.changes).toBe(true);
        expect(c.diffs).toEqual([field]);
        expect(c.unknowns).toEqual([field]);
        expect(c.replaces).toEqual([]);
      }),
    );
  });

  test("an unknown in a replaceOnUnknown field replaces", () => {
    fc.assert(
      fc.property(record, fc.nat(), (actual, pick) => {
        const s: DiffSpec = { host: { replace: true, replaceOnUnknown: true }, mode: {} };
        const desired = { ...actual, host: injectUnknown(actual.host ?? "ls01", pick) };
        expect(compare(s, desired, actual).replaces).toEqual(["host"]);
      }),
    );
  });

  test("object key order never matters", () => {
    fc.assert(
      fc.property(spec, record, (s, x) => {
        const reversed = Object.fromEntries(
          Object.entries(x)
            .reverse()
            .map(([k, v]) => [
              k,
              v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
            ]),
        );
        expect(compare(s, x, reversed).diffs).toEqual([]);
      }),
    );
  });

  test("an unordered field ignores permutations; an ordered one sees them", () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 2, maxLength: 6 }), fc.nat(), (list, seed) => {
        const shuffled = [...list].sort((a, b) => ((a + seed).length % 3) - ((b + seed).length % 3) || (a < b ? 1 : a > b ? -1 : 0));
        expect(compare({ servers: { normalize: "unordered" } }, { servers: list }, { servers: shuffled }).diffs).toEqual([]);
        const ordered = compare({ servers: {} }, { servers: list }, { servers: shuffled });
        expect(ordered.result.changes).toBe(JSON.stringify(list) !== JSON.stringify(shuffled));
      }),
    );
  });
});

describe("compare: situations", () => {
  const lsSpec: DiffSpec = {
    host: { replace: true, normalize: "caseInsensitive" },
    licenseServers: { normalize: "caseInsensitive" },
    mode: {},
    agreementNumber: { replace: true, carried: true },
  };

  test("when only the case of a host name differs, nothing changes", () => {
    const c = compare(
      lsSpec,
      { host: "LS01.contoso.com", licenseServers: ["LS01", "ls02"] },
      { host: "ls01.CONTOSO.com", licenseServers: ["ls01", "LS02"] },
    );
    expect(c.result).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  test("when the license server list is reordered, it is a change (the host tries them in order)", () => {
    const c = compare(lsSpec, { licenseServers: ["ls02", "ls01"] }, { licenseServers: ["ls01", "ls02"] });
    expect(c.diffs).toEqual(["licenseServers"]);
    expect(c.replaces).toEqual([]);
  });

  test("when the target host changes, the resource is replaced", () => {
    const c = compare(lsSpec, { host: "ls02", mode: "perUser" }, { host: "ls01", mode: "perDevice" });
    expect(c.result).toEqual({ changes: true, replaces: ["host"], deleteBeforeReplace: false });
    expect(c.diffs).toEqual(["host", "mode"]);
  });

  test("unordered compares as a multiset, not a set", () => {
    expect(compare({ s: { normalize: "unordered" } }, { s: ["a", "a", "b"] }, { s: ["a", "b", "b"] }).diffs).toEqual(["s"]);
  });

  test("null, undefined and a missing key are the same absent value, at any depth", () => {
    const s: DiffSpec = { a: {}, b: {}, c: {} };
    expect(compare(s, { a: null, c: { x: 1, y: undefined } }, { b: undefined, c: { x: 1, y: null } }).diffs).toEqual([]);
    expect(compare(s, { a: 0 }, {}).diffs).toEqual(["a"]);
    expect(compare(s, { a: "" }, { a: null }).diffs).toEqual(["a"]);
  });

  test("fields outside the spec (__provider, computed outputs) are ignored", () => {
    expect(
      compare({ mode: {} }, { mode: "perUser", __provider: "new code" }, { mode: "perUser", __provider: "old", version: 7 }).result.changes,
    ).toBe(false);
  });

  test("a carried secret that state does not hold is not a difference; one it holds is compared", () => {
    expect(compare(lsSpec, { agreementNumber: "1234567" }, {}).diffs).toEqual([]);
    expect(compare(lsSpec, { agreementNumber: "1234567" }, { agreementNumber: "1234567" }).diffs).toEqual([]);
    const changed = compare(lsSpec, { agreementNumber: "7654321" }, { agreementNumber: "1234567" });
    expect(changed.replaces).toEqual(["agreementNumber"]);
  });

  test("refresh drift goes through the same call: refreshed outputs against the old inputs", () => {
    const oldInputs = { host: "ls01", mode: "perUser", licenseServers: ["ls01"] };
    const refreshed = { ...oldInputs, mode: "perDevice", productId: "00490-92005-99454-AT527" };
    expect(compare(lsSpec, oldInputs, refreshed).diffs).toEqual(["mode"]);
  });

  test("an unknown upstream value in an identity field previews as an update, not a replacement", () => {
    const c = compare(lsSpec, { host: UNKNOWN, mode: "perUser" }, { host: "ls01", mode: "perUser" });
    expect(c.result).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(c.unknowns).toEqual(["host"]);
  });

  test("an unknown inside an array is found", () => {
    expect(compare(lsSpec, { licenseServers: ["ls01", UNKNOWN] }, { licenseServers: ["ls01", "ls02"] }).unknowns).toEqual([
      "licenseServers",
    ]);
  });

  test("custom normalisers run in order, on both sides", () => {
    const trim = (v: unknown) => (typeof v === "string" ? v.trim() : v);
    const s: DiffSpec = { company: { normalize: [trim, "caseInsensitive"] } };
    expect(compare(s, { company: "  Contoso Ltd " }, { company: "contoso ltd" }).diffs).toEqual([]);
  });

  test("a spec with replaceOnUnknown but not replace is a programming error", () => {
    expect(() => compare({ host: { replaceOnUnknown: true } }, {}, {})).toThrow(/replaceOnUnknown needs replace/);
  });

  test("diffs, replaces and unknowns follow the spec's field order", () => {
    const s: DiffSpec = { z: { replace: true }, a: {}, m: { replace: true } };
    const c = compare(s, { z: 1, a: 1, m: 1 }, { z: 2, a: 2, m: 2 });
    expect(c.diffs).toEqual(["z", "a", "m"]);
    expect(c.replaces).toEqual(["z", "m"]);
  });
});
