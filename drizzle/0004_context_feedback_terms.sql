CREATE TABLE "feedback_events" (
	"id" text PRIMARY KEY NOT NULL,
	"interaction_id" text NOT NULL,
	"type" text NOT NULL,
	"value" double precision,
	"text" text,
	"detail" jsonb,
	"occurred_at" timestamp with time zone NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "project_profiles" (
	"root" text NOT NULL,
	"version" integer NOT NULL,
	"stacks" jsonb NOT NULL,
	"proposal" jsonb NOT NULL,
	"edited" boolean NOT NULL,
	"context_vector" jsonb NOT NULL,
	"confirmed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "project_profiles_root_version_pk" PRIMARY KEY("root","version")
);
--> statement-breakpoint
CREATE TABLE "project_terms" (
	"project_id" text NOT NULL,
	"term" text NOT NULL,
	"chunks" integer NOT NULL,
	CONSTRAINT "project_terms_project_id_term_pk" PRIMARY KEY("project_id","term")
);
--> statement-breakpoint
CREATE TABLE "rewards" (
	"interaction_id" text PRIMARY KEY NOT NULL,
	"reward" double precision NOT NULL,
	"components" jsonb NOT NULL,
	"events" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "term_stats_chunks" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "feedback_events" ADD CONSTRAINT "feedback_events_interaction_id_interactions_id_fk" FOREIGN KEY ("interaction_id") REFERENCES "public"."interactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "project_terms" ADD CONSTRAINT "project_terms_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rewards" ADD CONSTRAINT "rewards_interaction_id_interactions_id_fk" FOREIGN KEY ("interaction_id") REFERENCES "public"."interactions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "feedback_events_interaction_id_index" ON "feedback_events" USING btree ("interaction_id");--> statement-breakpoint
CREATE INDEX "feedback_events_type_occurred_at_index" ON "feedback_events" USING btree ("type","occurred_at");