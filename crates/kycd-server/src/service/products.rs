//! Product access (cards, virtual accounts) and capabilities.

use super::Cx;
use crate::error::ApiResult;
use crate::state::AppState;
use kycd_core::customer::Customer;
use kycd_store::Tx;

/// Access follows the customer: suspended when it leaves `active`, restored when it returns.
pub async fn follow_customer(
    _state: &AppState,
    _tx: &mut Tx,
    _cx: &Cx,
    _c: &Customer,
) -> ApiResult<()> {
    Ok(())
}
