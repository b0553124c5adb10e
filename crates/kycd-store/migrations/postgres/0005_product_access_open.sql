-- Product access: at most one open (pending or granted) request per customer and product.
CREATE UNIQUE INDEX product_access_open ON product_access (customer_id, product) WHERE status IN ('pending', 'granted');
