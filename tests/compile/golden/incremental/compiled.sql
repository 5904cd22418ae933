select e.id, e.ts from "main"."events" as e
