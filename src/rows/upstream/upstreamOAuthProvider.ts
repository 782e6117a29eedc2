// Stored `claims_imports` of `upstream_oauth_providers`: a JSON document with snake_case keys (as MAS serialises it) in which every member defaults.
import { Option, Schema } from "effect"
import { ClaimsImports, ImportAction, LocalpartOnConflict } from "../../model/upstream.js"

const template = Schema.optionalWith(Schema.String, { as: "Option", nullable: true })
const action = Schema.optionalWith(ImportAction, { default: () => "ignore" as const })

const StoredSubjectPreference = Schema.Struct({ template })
const StoredImportPreference = Schema.Struct({ action, template })
const StoredLocalpartPreference = Schema.Struct({
  action,
  template,
  onConflict: Schema.optionalWith(LocalpartOnConflict, { default: () => "fail" as const }).pipe(
    Schema.fromKey("on_conflict")
  )
})

// An absent member decodes as a JSON object without members would.
const subject = Schema.optionalWith(StoredSubjectPreference, { default: () => ({ template: Option.none() }) })
const importPreference = Schema.optionalWith(StoredImportPreference, {
  default: () => ({ action: "ignore" as const, template: Option.none() })
})

const StoredClaimsImports = Schema.Struct({
  subject,
  skipConfirmation: Schema.optionalWith(Schema.Boolean, { default: () => false }).pipe(
    Schema.fromKey("skip_confirmation")
  ),
  localpart: Schema.optionalWith(StoredLocalpartPreference, {
    default: () => ({ action: "ignore" as const, template: Option.none(), onConflict: "fail" as const })
  }),
  displayname: importPreference,
  email: importPreference,
  accountName: subject.pipe(Schema.fromKey("account_name"))
})

/** Stored `claims_imports` JSON ⇄ ClaimsImports. */
export const ClaimsImportsFromJson: Schema.Schema<ClaimsImports, unknown> = Schema.compose(
  Schema.Unknown,
  Schema.compose(StoredClaimsImports, ClaimsImports),
  { strict: false }
)
