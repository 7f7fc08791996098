CREATE TABLE "modulator_decisions" (
	"interaction_id" text PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"source" text NOT NULL,
	"features" jsonb,
	"candidates" jsonb NOT NULL,
	"action" jsonb NOT NULL,
	"greedy" jsonb NOT NULL,
	"propensity" double precision NOT NULL,
	"explored" boolean NOT NULL,
	"cached" boolean NOT NULL,
	"reasons" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"learned_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "modulator_versions" (
	"version" integer PRIMARY KEY NOT NULL,
	"channel" text NOT NULL,
	"origin" text NOT NULL,
	"parent_version" integer,
	"path" text NOT NULL,
	"sha256" text NOT NULL,
	"params" integer NOT NULL,
	"metrics" jsonb NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"promoted_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "modulator_decisions" ADD CONSTRAINT "modulator_decisions_interaction_id_interactions_id_fk" FOREIGN KEY ("interaction_id") REFERENCES "public"."interactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "modulator_decisions_created_at_index" ON "modulator_decisions" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "modulator_decisions_learned_at_index" ON "modulator_decisions" USING btree ("learned_at");--> statement-breakpoint
CREATE UNIQUE INDEX "modulator_one_stable" ON "modulator_versions" USING btree ("channel") WHERE "modulator_versions"."channel" = 'stable';