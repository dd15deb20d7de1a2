/**
 * What the check reads, as the resources' own zod schemas: license server get.ps1 (with its
 * `licenseServersGroup` and `calUsage`, each null where it cannot be read), session host get.ps1 (with its
 * `connectivity`). One schema per script, shared with
 * the resources, so the check and the resources can never read a script differently.
 */
import type { z } from "zod";
import { getResultSchema as licenseServerGetSchema, type CalUsage, type LicenseServersGroup } from "../resources/licenseServer/schema";
import type { ConnectivityEntry } from "../resources/sessionHostLicensing/connectivity";
import { getResultSchema as sessionHostGetSchema } from "../resources/sessionHostLicensing/schema";

export type { CalUsage, LicenseServersGroup };
export type Connectivity = ConnectivityEntry;

/** licenseServer/get.ps1. */
export const licenseServerReadSchema = licenseServerGetSchema;
export type LicenseServerRead = z.infer<typeof licenseServerReadSchema>;

/** sessionHostLicensing/get.ps1 (scope sessionHost). */
export const sessionHostReadSchema = sessionHostGetSchema;
export type SessionHostRead = z.infer<typeof sessionHostReadSchema>;
