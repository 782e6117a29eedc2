// Lint rules the code follows: the recommended sets of ESLint and typescript-eslint, with the exceptions the code relies on.
import js from "@eslint/js"
import tseslint from "typescript-eslint"

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", ".data/**", "test/package/consumer/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      // `any` appears only at the type level (inference and variance positions of generic helpers), where unknown cannot stand in.
      "@typescript-eslint/no-explicit-any": "off",
      // Matching NUL is the point of the checks that refuse it as PostgreSQL does.
      "no-control-regex": "off",
      // Immutable folds over the in-memory Database start from `this`.
      "@typescript-eslint/no-this-alias": "off",
      // Data types merge a class with an interface to gain `pipe`, as Effect's own data types do.
      "@typescript-eslint/no-unsafe-declaration-merging": "off",
      "@typescript-eslint/no-empty-object-type": ["error", { allowInterfaces: "with-single-extends" }],
      // Effect.gen bodies that only read services are still generators.
      "require-yield": "off",
      // Node's deep equality sees no difference between two Effect data values (Option.some(1) "equals" Option.none()):
      // tests compare with expect(…).toEqual, which uses Effect's own equality.
      "no-restricted-properties": [
        "error",
        { object: "assert", property: "deepStrictEqual", message: "use expect(actual).toEqual(expected)" },
        { object: "assert", property: "deepEqual", message: "use expect(actual).toEqual(expected)" }
      ],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }
      ]
    }
  }
)
