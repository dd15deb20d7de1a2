/**
 * Type helpers for the user-facing argument interfaces of the resources and connections. Types only:
 * nothing here exists at run time.
 */

/**
 * One of the listed values, or any other string. An enum-like input takes it so that a value read
 * from `pulumi.Config` (`cfg.require("mode")` is a plain `string`) compiles without a cast, while an
 * editor still offers the listed values (`string & Record<never, never>` keeps the union from
 * collapsing into `string`). A value outside the list is refused by the resource's `check`, before any
 * host is touched, with RDS_VALIDATION and the list of allowed values.
 *
 * Used on outputs too, where a host may report a value this package does not know yet (a future
 * Windows release): the listed values are the ones expected.
 */
export type OrString<T extends string> = T | (string & Record<never, never>);
