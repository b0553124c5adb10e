-- Which businesses name which individual customers as beneficial owners: ids
-- only (the shares and roles stay in the sealed business document), so an
-- owner's status change or erasure finds the businesses that depend on it.
-- Written with the business in the same transaction.
CREATE TABLE business_owners (
    organization_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    business_id TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    PRIMARY KEY (business_id, owner_id)
);
CREATE INDEX business_owners_owner ON business_owners (organization_id, environment, owner_id);
