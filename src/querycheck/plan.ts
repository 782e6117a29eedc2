// Walks an EXPLAIN (VERBOSE, FORMAT JSON) plan to find which outputs of the statement can be NULL because of an outer join.

/** One node of the JSON plan, as far as this module reads it. */
export interface PlanNode {
  readonly "Node Type"?: string
  readonly "Join Type"?: string
  readonly "Parent Relationship"?: string
  readonly "Subplan Name"?: string
  readonly "CTE Name"?: string
  readonly Output?: ReadonlyArray<string>
  readonly Plans?: ReadonlyArray<PlanNode>
}

/** Why an output is forced nullable (e.g. "inner side of LEFT JOIN"), or null when no outer join touches it. */
type Forced = string | null

interface Analysed {
  readonly outputs: ReadonlyArray<string>
  readonly forced: ReadonlyArray<Forced>
}

/** The reason a child's outputs are nullable in its parent join, if they are. */
const sideOf = (join: string | undefined, relationship: string | undefined): Forced => {
  if (join === "Left" && relationship === "Inner") return "inner side of LEFT JOIN"
  // `a RIGHT JOIN b` is `b LEFT JOIN a`, and the planner swaps sides of a LEFT JOIN into a Right join at will: the
  // reason names the SQL-level idea (the side that may find no match), not the plan's orientation
  if (join === "Right" && relationship === "Outer") return "inner side of LEFT JOIN"
  if (join === "Full" && (relationship === "Inner" || relationship === "Outer")) return "side of FULL JOIN"
  return null
}

const collectCtes = (node: PlanNode, into: Map<string, PlanNode>) => {
  const name = node["Subplan Name"]
  if (name !== undefined && name.startsWith("CTE ")) into.set(name.slice(4), node)
  for (const child of node.Plans ?? []) collectCtes(child, into)
}

/**
 * For each output of the plan's top node (the statement's columns first, in order), why it is forced nullable by
 * an outer join below it, or null. Outputs are matched by their text, which EXPLAIN VERBOSE qualifies with the
 * range-table alias; a CTE or subquery scan maps its outputs positionally onto the plan that produces them.
 */
export const forcedNullable = (root: PlanNode): ReadonlyArray<Forced> => {
  const ctes = new Map<string, PlanNode>()
  collectCtes(root, ctes)
  const memo = new Map<PlanNode, Analysed>()

  const analyse = (node: PlanNode): Analysed => {
    const cached = memo.get(node)
    if (cached !== undefined) return cached
    const outputs = node.Output ?? []
    const joinType = node["Join Type"]
    const children = (node.Plans ?? []).filter((c) => {
      const rel = c["Parent Relationship"]
      return rel !== "InitPlan" && rel !== "SubPlan"
    })
    let forced: Array<Forced>
    const cteName = node["CTE Name"]
    const cte = cteName === undefined ? undefined : ctes.get(cteName)
    if (cte !== undefined || (node["Node Type"] === "Subquery Scan" && children.length === 1)) {
      const source = analyse(cte ?? children[0]!)
      if (source.outputs.length === outputs.length) forced = [...source.forced]
      else {
        // the scan projects: any forced input may reach any output
        const any = source.forced.find((f) => f !== null) ?? null
        forced = outputs.map(() => any)
      }
    } else {
      const env = new Map<string, Forced>()
      for (const child of children) {
        const analysed = analyse(child)
        const side = sideOf(joinType, child["Parent Relationship"])
        analysed.outputs.forEach((expr, i) => {
          const reason = analysed.forced[i] ?? side
          if (!env.has(expr) || (env.get(expr) === null && reason !== null)) env.set(expr, reason)
        })
      }
      forced = outputs.map((expr) => env.get(expr) ?? null)
    }
    const result = { outputs, forced }
    memo.set(node, result)
    return result
  }

  return analyse(root).forced
}
